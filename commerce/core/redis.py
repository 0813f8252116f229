from django_redis import get_redis_connection
from redis import Redis


def redis_client() -> Redis:
    """The raw redis-py client behind the django-redis cache (one pool per process)."""
    return get_redis_connection("default")
