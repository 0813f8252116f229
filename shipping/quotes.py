"""Shipping options at checkout: live carrier rates for the cart's parcel, cached briefly,
each offered as a quote with an id that expires. Checkout redeems the quote the customer
chose: what they saw is what they pay.

A quote is bound to the cart it was made for (its storage id) and to the cart's contents
(its checkout_id, which changes with every cart change: the parcel and its price were for
those contents). Quotes live in the cache (Redis) a day past their expiry, so an expired
quote is told apart from an unknown or foreign one (409 vs 400)."""

import hashlib
import json
import logging
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from commerce.core.errors import Conflict, ErrorCode, ServiceUnavailable, ValidationFailed
from orders.services import shipping_charge
from shipping import carriers, parcels
from shipping.carriers.base import Address, CarrierRefused, Rate

logger = logging.getLogger(__name__)

_QUOTE_KEY = "shipping:quote:{}"
_RATES_KEY = "shipping:rates:{}"
_GRACE = timedelta(days=1)


class ShippingQuoteInvalid(ValidationFailed):
    code = ErrorCode.SHIPPING_QUOTE_INVALID
    default_message = "Unknown shipping quote."


class ShippingQuoteExpired(Conflict):
    code = ErrorCode.SHIPPING_QUOTE_EXPIRED
    default_message = "The shipping quote expired; ask for shipping options again."


@dataclass(frozen=True)
class Quote:
    quote_id: str
    cart_id: str
    checkout_id: str
    country: str
    postal_code: str
    carrier: str
    service_level: str
    service_code: str
    service_name: str
    carrier_price: str  # what the carrier quoted
    price: str  # what the customer pays (after the free-shipping threshold)
    currency: str
    transit_days: int | None
    estimated_delivery: str | None
    expires_at: str

    def as_option(self) -> dict:
        """What the order keeps (orders.validation.clean_shipping_option)."""
        return {"quote_id": self.quote_id, "carrier": self.carrier,
                "service_level": self.service_level, "service_code": self.service_code,
                "service_name": self.service_name, "price": self.carrier_price,
                "currency": self.currency}


def shipping_options(*, cart_id: str, checkout_id: str, lines: list[dict], subtotal: Decimal,
                     currency: str, country: str, postal_code: str) -> list[Quote]:
    """One quote per carrier service that can carry the cart's parcel there, cheapest
    first. Carriers that are down or refuse are left out; all down → 503."""
    destination = Address(country=country, postal_code=postal_code)
    rates = live_rates(destination=destination, parcel_lines=lines, currency=currency)
    expires = timezone.now() + timedelta(seconds=settings.SHIPPING_QUOTE_TTL_SECONDS)
    quotes = []
    for rate in sorted(rates, key=lambda r: (r.amount, r.carrier, r.service_code)):
        if rate.currency != currency:
            continue  # the order is paid in one currency
        quote = Quote(
            quote_id=str(uuid.uuid4()), cart_id=cart_id, checkout_id=checkout_id,
            country=country, postal_code=postal_code, carrier=rate.carrier,
            service_level=rate.service_level, service_code=rate.service_code,
            service_name=rate.service_name, carrier_price=str(rate.amount),
            price=str(shipping_charge(subtotal=subtotal, quoted=rate.amount)),
            currency=rate.currency, transit_days=rate.transit_days,
            estimated_delivery=rate.estimated_delivery.isoformat()
            if rate.estimated_delivery else None, expires_at=expires.isoformat())
        cache.set(_QUOTE_KEY.format(quote.quote_id), asdict(quote),
                  timeout=settings.SHIPPING_QUOTE_TTL_SECONDS + int(_GRACE.total_seconds()))
        quotes.append(quote)
    return quotes


def live_rates(*, destination: Address, parcel_lines: list[dict], currency: str) -> list[Rate]:
    """Every enabled carrier's rates for the parcel, cached for
    settings.SHIPPING_RATES_CACHE_SECONDS per (route, parcel, currency)."""
    parcel = parcels.parcel_for(parcel_lines)
    origin = parcels.origin()
    key = _RATES_KEY.format(hashlib.sha256(json.dumps(
        [asdict(origin), destination.country, destination.postal_code, parcel.as_dict(),
         currency, carriers.enabled()], sort_keys=True).encode()).hexdigest())
    cached = cache.get(key)
    if cached is not None:
        return cached
    rates: list[Rate] = []
    down = []
    for code in carriers.enabled():
        try:
            rates += carriers.get_carrier(code).rates(origin=origin, destination=destination,
                                                     parcel=parcel, currency=currency)
        except CarrierRefused as exc:
            logger.info("carrier offers no rate", extra={"carrier": code, "error": exc.message})
        except ServiceUnavailable:
            down.append(code)
    if down and not rates:
        raise ServiceUnavailable("No carrier could quote right now; retry later.",
                                 details={"carriers": down})
    if not down:  # a carrier outage is not remembered for the next customer
        cache.set(key, rates, timeout=settings.SHIPPING_RATES_CACHE_SECONDS)
    return rates


def quote_redeem(*, quote_id, cart_id: str, checkout_id: str, country: str,
                 postal_code: str) -> Quote:
    """The quote checkout charges: refused if unknown or another cart's (400), expired or
    made for other cart contents (409), or for another destination (400)."""
    try:
        quote_id = str(uuid.UUID(str(quote_id)))
    except ValueError:
        raise ShippingQuoteInvalid(details={"shipping_quote_id": ["Not a quote id."]}) from None
    stored = cache.get(_QUOTE_KEY.format(quote_id))
    if stored is None or stored["cart_id"] != cart_id:
        raise ShippingQuoteInvalid(details={"shipping_quote_id": ["Unknown shipping quote."]})
    quote = Quote(**stored)
    if datetime.fromisoformat(quote.expires_at) <= timezone.now():
        raise ShippingQuoteExpired(details={"shipping_quote_id": quote_id,
                                            "expired_at": quote.expires_at})
    if quote.checkout_id != checkout_id:
        raise ShippingQuoteExpired(
            "The cart changed since this shipping quote; ask for shipping options again.",
            details={"shipping_quote_id": quote_id})
    if (quote.country, _postal(quote.postal_code)) != (country, _postal(postal_code)):
        raise ShippingQuoteInvalid(
            "The shipping quote is for another destination.",
            details={"shipping_address": [f"The quote is for {quote.postal_code} "
                                          f"{quote.country}."]})
    return quote


def _postal(value: str) -> str:
    return "".join(str(value).split()).upper()
