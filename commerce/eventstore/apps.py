from django.apps import AppConfig


class EventStoreConfig(AppConfig):
    name = "commerce.eventstore"
    label = "eventstore"
    verbose_name = "Event store"
