"""Cart storage in Redis: one hash per cart, changed only by Lua scripts so every write is
atomic (two concurrent adds never lose a line, a limit check and its write never interleave).

Hash layout (key `<prefix>:cart:<cart_id>`):
    l:<sku>      quantity of the line
    p:<sku>      catalog unit price when the line was last added (for "price changed" warnings)
    n            number of lines (kept by the scripts, so the line limit check is O(1))
    owner        customer id or "guest"
    created_at   ISO timestamp
    checkout_id  UUID regenerated on every change: checkout places the order under this id,
                 so two checkouts of the same cart contents can only ever create one order

Every write slides the expiry (EXPIRE) and keeps a sorted set of expiry times for carts that
hold items; `abandoned_sweep` finds members whose hash has expired (abandoned with items).

Two short-lived receipts make retries safe: a merged guest cart leaves
`<prefix>:cart-merged:<guest cart id>` (the cart it went into and the merge report), so a
repeated merge answers the merged cart instead of 404; a checked-out cart leaves
`<prefix>:cart-checked-out:<cart id>` (the order id), so a duplicate checkout that arrives
after the cart was cleared answers the same order instead of `cart_empty`.
Scripts build keys from KEYS[1]/the prefix, so this assumes one Redis node, not a cluster.

Redis connection and timeout errors become `ServiceUnavailable` (503) here, in one place."""

import functools
import time
import uuid
from dataclasses import dataclass, field

import redis
from django.conf import settings
from django.utils import timezone

from commerce.core.errors import ServiceUnavailable
from commerce.core.redis import redis_client


def _prefix() -> str:
    return settings.CACHES["default"].get("KEY_PREFIX") or "commerce"


def cart_key(cart_id: str) -> str:
    return f"{_prefix()}:cart:{cart_id}"


def expiries_key() -> str:
    return f"{_prefix()}:cart-expiries"


def stream_key() -> str:
    return f"{_prefix()}:cart-events"


def ttl_seconds() -> int:
    return settings.CART_TTL_DAYS * 86400


def merged_key(guest_id: str) -> str:
    return f"{_prefix()}:cart-merged:{guest_id}"


def checked_out_key(cart_id: str) -> str:
    return f"{_prefix()}:cart-checked-out:{cart_id}"


# How long a merge or checkout receipt answers retries.
RECEIPT_SECONDS = 24 * 3600


def redis_guard(func):
    """Turn "Redis is unreachable" into a 503 `service_unavailable` domain error."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            raise ServiceUnavailable(
                "The cart store is unavailable; retry later.", details={"service": "redis"}
            ) from exc

    return wrapper


@dataclass(frozen=True)
class CartData:
    """A cart as stored: lines in insertion-independent (sku) order."""

    cart_id: str
    exists: bool
    lines: dict[str, int] = field(default_factory=dict)
    prices: dict[str, str] = field(default_factory=dict)
    owner: str = ""
    created_at: str = ""
    checkout_id: str = ""
    ttl: int = -2


def _decode(cart_id: str, raw: dict, ttl: int) -> CartData:
    data = {k.decode(): v.decode() for k, v in raw.items()}
    lines = {k[2:]: int(v) for k, v in data.items() if k.startswith("l:")}
    prices = {k[2:]: v for k, v in data.items() if k.startswith("p:")}
    return CartData(
        cart_id=cart_id, exists=bool(data), lines=dict(sorted(lines.items())), prices=prices,
        owner=data.get("owner", ""), created_at=data.get("created_at", ""),
        checkout_id=data.get("checkout_id", ""), ttl=ttl,
    )


# --- Lua ---------------------------------------------------------------------------------
# Common tail of every write: new checkout id, slide the expiry, track the expiry time of
# carts with items (and forget empty ones: an empty cart that expires is not "abandoned").
# ARGV[1]=cart_id ARGV[2]=ttl ARGV[3]=now_iso ARGV[4]=new checkout id ARGV[5]=owner
_PRELUDE = """
local key, zkey = KEYS[1], KEYS[2]
local cart_id, ttl, now_iso = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local new_checkout, owner = ARGV[4], ARGV[5]
local function ensure()
  if redis.call('EXISTS', key) == 0 then
    redis.call('HSET', key, 'owner', owner, 'created_at', now_iso, 'n', 0)
    return 1
  end
  return 0
end
local function touch()
  redis.call('HSET', key, 'checkout_id', new_checkout)
  redis.call('EXPIRE', key, ttl)
  local n = tonumber(redis.call('HGET', key, 'n') or '0')
  local t = redis.call('TIME')
  if n > 0 then
    redis.call('ZADD', zkey, tonumber(t[1]) + ttl, cart_id)
  else
    redis.call('ZREM', zkey, cart_id)
  end
end
"""

# ARGV[6]=must_exist ARGV[7]=sku ARGV[8]=qty ARGV[9]=price ARGV[10]=max_lines ARGV[11]=max_qty
# -> {status, quantity after, created}
_ADD = _PRELUDE + """
if ARGV[6] == '1' and redis.call('EXISTS', key) == 0 then return {'missing', 0, 0} end
local sku, qty = ARGV[7], tonumber(ARGV[8])
local max_lines, max_qty = tonumber(ARGV[10]), tonumber(ARGV[11])
local current = tonumber(redis.call('HGET', key, 'l:' .. sku) or '0')
if current == 0 and tonumber(redis.call('HGET', key, 'n') or '0') >= max_lines then
  return {'too_many_lines', current, 0}
end
if current + qty > max_qty then return {'too_much_quantity', current, 0} end
local created = ensure()
if current == 0 then redis.call('HINCRBY', key, 'n', 1) end
local after = redis.call('HINCRBY', key, 'l:' .. sku, qty)
redis.call('HSET', key, 'p:' .. sku, ARGV[9])
touch()
return {'ok', after, created}
"""

# ARGV[6]=sku ARGV[7]=qty (0 removes) -> {status, previous quantity}
_SET = _PRELUDE + """
if redis.call('EXISTS', key) == 0 then return {'missing', 0} end
local sku, qty = ARGV[6], tonumber(ARGV[7])
local current = tonumber(redis.call('HGET', key, 'l:' .. sku) or '0')
if current == 0 then return {'no_line', 0} end
if qty == 0 then
  redis.call('HDEL', key, 'l:' .. sku, 'p:' .. sku)
  redis.call('HINCRBY', key, 'n', -1)
else
  redis.call('HSET', key, 'l:' .. sku, qty)
end
touch()
return {'ok', current}
"""

# -> {status, lines removed}
_CLEAR = _PRELUDE + """
if redis.call('EXISTS', key) == 0 then return {'missing', 0} end
local removed = 0
for _, f in ipairs(redis.call('HKEYS', key)) do
  local p = string.sub(f, 1, 2)
  if p == 'l:' then removed = removed + 1 end
  if p == 'l:' or p == 'p:' then redis.call('HDEL', key, f) end
end
redis.call('HSET', key, 'n', 0)
touch()
return {'ok', removed}
"""

_CREATE = _PRELUDE + """
local created = ensure()
touch()
return {'ok', created}
"""

# KEYS[3]=guest key KEYS[4]=merge receipt; ARGV[6]=guest cart id ARGV[7]=max_lines
# ARGV[8]=max_qty ARGV[9]=receipt ttl
# -> {status, created, merged skus..., '|', dropped skus...}; status 'replayed' answers a
# merge already done into this cart (from its receipt).
_MERGE = _PRELUDE + """
local gkey, gid, rkey = KEYS[3], ARGV[6], KEYS[4]
local max_lines, max_qty = tonumber(ARGV[7]), tonumber(ARGV[8])
if redis.call('EXISTS', gkey) == 0 then
  if redis.call('HGET', rkey, 'into') ~= cart_id then return {'missing', 0} end
  local out = {'replayed', 0}
  for _, s in ipairs(cjson.decode(redis.call('HGET', rkey, 'merged'))) do table.insert(out, s) end
  table.insert(out, '|')
  for _, s in ipairs(cjson.decode(redis.call('HGET', rkey, 'dropped'))) do table.insert(out, s) end
  return out
end
local created = ensure()
local merged, dropped = {}, {}
local g = redis.call('HGETALL', gkey)
local gprices = {}
for i = 1, #g, 2 do
  if string.sub(g[i], 1, 2) == 'p:' then gprices[string.sub(g[i], 3)] = g[i + 1] end
end
for i = 1, #g, 2 do
  if string.sub(g[i], 1, 2) == 'l:' then
    local sku, qty = string.sub(g[i], 3), tonumber(g[i + 1])
    local current = tonumber(redis.call('HGET', key, g[i]) or '0')
    if current == 0 and tonumber(redis.call('HGET', key, 'n')) >= max_lines then
      table.insert(dropped, sku)
    else
      if current == 0 then
        redis.call('HINCRBY', key, 'n', 1)
        if gprices[sku] then redis.call('HSET', key, 'p:' .. sku, gprices[sku]) end
      end
      redis.call('HSET', key, g[i], math.min(current + qty, max_qty))
      table.insert(merged, sku)
    end
  end
end
redis.call('DEL', gkey)
redis.call('ZREM', zkey, gid)
redis.call('HSET', rkey, 'into', cart_id,
           'merged', #merged > 0 and cjson.encode(merged) or '[]',
           'dropped', #dropped > 0 and cjson.encode(dropped) or '[]')
redis.call('EXPIRE', rkey, tonumber(ARGV[9]))
touch()
local out = {'ok', created}
for _, s in ipairs(merged) do table.insert(out, s) end
table.insert(out, '|')
for _, s in ipairs(dropped) do table.insert(out, s) end
return out
"""

# Read and slide the expiry in one step. ARGV[1]=cart_id ARGV[2]=ttl
_READ = """
local key, zkey = KEYS[1], KEYS[2]
if redis.call('EXISTS', key) == 0 then return {{}, -2} end
local ttl = tonumber(ARGV[2])
redis.call('EXPIRE', key, ttl)
if tonumber(redis.call('HGET', key, 'n') or '0') > 0 then
  local t = redis.call('TIME')
  redis.call('ZADD', zkey, tonumber(t[1]) + ttl, ARGV[1])
end
return {redis.call('HGETALL', key), ttl}
"""

# Delete the cart only if it still holds what was checked out (ARGV[2]=checkout id): items
# added while the order was being placed survive. Either way, leave the checkout receipt
# (KEYS[3] = ARGV[3], the order id, for ARGV[4] seconds).
_DELETE_IF_CHECKOUT = """
redis.call('SET', KEYS[3], ARGV[3], 'EX', tonumber(ARGV[4]))
if redis.call('HGET', KEYS[1], 'checkout_id') ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
"""

# Members whose expiry time passed (ARGV[1]=now, ARGV[2]=batch): claim (ZREM) the ones whose
# hash is gone; re-score the ones still alive (their expiry slid). ARGV[3]=cart key prefix.
_SWEEP = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local gone = {}
for _, member in ipairs(due) do
  local ttl = redis.call('TTL', ARGV[3] .. member)
  if ttl == -2 then
    redis.call('ZREM', KEYS[1], member)
    table.insert(gone, member)
  elseif ttl > 0 then
    local t = redis.call('TIME')
    redis.call('ZADD', KEYS[1], tonumber(t[1]) + ttl, member)
  else
    redis.call('ZREM', KEYS[1], member)
  end
end
return gone
"""


def _run(source: str, keys: list[str], args: list) -> list:
    client = redis_client()
    return client.register_script(source)(keys=keys, args=args, client=client)


def _common(cart_id: str, owner: str) -> list:
    return [cart_id, ttl_seconds(), timezone.now().isoformat(), str(uuid.uuid4()), owner]


def _s(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@redis_guard
def read(cart_id: str) -> CartData:
    raw, ttl = _run(_READ, [cart_key(cart_id), expiries_key()], [cart_id, ttl_seconds()])
    pairs = dict(zip(raw[::2], raw[1::2], strict=True))
    return _decode(cart_id, pairs, int(ttl))


@redis_guard
def create(cart_id: str, *, owner: str) -> bool:
    _status, created = _run(_CREATE, [cart_key(cart_id), expiries_key()],
                            _common(cart_id, owner))
    return bool(created)


@redis_guard
def add(cart_id: str, *, owner: str, must_exist: bool, sku: str, quantity: int, price: str,
        max_lines: int, max_quantity: int) -> tuple[str, int, bool]:
    status, after, created = _run(
        _ADD, [cart_key(cart_id), expiries_key()],
        _common(cart_id, owner)
        + ["1" if must_exist else "0", sku, quantity, price, max_lines, max_quantity],
    )
    return _s(status), int(after), bool(created)


@redis_guard
def set_quantity(cart_id: str, *, sku: str, quantity: int) -> tuple[str, int]:
    status, previous = _run(_SET, [cart_key(cart_id), expiries_key()],
                            _common(cart_id, "") + [sku, quantity])
    return _s(status), int(previous)


@redis_guard
def clear(cart_id: str) -> tuple[str, int]:
    status, removed = _run(_CLEAR, [cart_key(cart_id), expiries_key()], _common(cart_id, ""))
    return _s(status), int(removed)


@redis_guard
def merge(*, guest_id: str, into_id: str, owner: str, max_lines: int,
          max_quantity: int) -> tuple[str, bool, list[str], list[str]]:
    out = _run(
        _MERGE, [cart_key(into_id), expiries_key(), cart_key(guest_id), merged_key(guest_id)],
        _common(into_id, owner) + [guest_id, max_lines, max_quantity, RECEIPT_SECONDS],
    )
    status = _s(out[0])
    if status == "missing":
        return status, False, [], []
    rest = [_s(v) for v in out[2:]]
    cut = rest.index("|")
    return status, bool(out[1]), rest[:cut], rest[cut + 1:]


@redis_guard
def delete_if_checkout(cart_id: str, checkout_id: str, order_id: str) -> bool:
    return bool(_run(_DELETE_IF_CHECKOUT,
                     [cart_key(cart_id), expiries_key(), checked_out_key(cart_id)],
                     [cart_id, checkout_id, order_id, RECEIPT_SECONDS]))


@redis_guard
def checked_out_order(cart_id: str) -> str | None:
    """The order id of this cart's latest checkout, while its receipt lasts."""
    value = redis_client().get(checked_out_key(cart_id))
    return _s(value) if value is not None else None


@redis_guard
def abandoned_sweep(*, now: float | None = None, batch: int = 500) -> list[str]:
    now = time.time() if now is None else now
    gone = _run(_SWEEP, [expiries_key()], [now, batch, cart_key("")])
    return [_s(m) for m in gone]


@redis_guard
def delete(cart_id: str) -> None:
    client = redis_client()
    pipe = client.pipeline(transaction=True)
    pipe.delete(cart_key(cart_id))
    pipe.zrem(expiries_key(), cart_id)
    pipe.execute()
