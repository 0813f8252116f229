from django.core.management.base import BaseCommand, CommandError

from inventory import selectors, services


class Command(BaseCommand):
    help = (
        "Recompute stock counters from the facts: `reserved` from active reservations and "
        "`total` from the movement ledger, and check that every active reservation belongs "
        "to an order that holds stock (and every confirmed order holds its stock). Lists "
        "every drift and mismatch (exit status 1 when there is any); --fix repairs counter "
        "drift under row locks (mismatches need a person: see the order and its saga)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--fix", action="store_true", help="repair the drift found")
        parser.add_argument("--sku", action="append", dest="skus",
                            help="only this sku (repeatable)")

    def handle(self, *args, **opts):
        items = selectors.item_list().count()
        self.stdout.write(f"verifying {items} stock items …")
        drifts = services.stock_resync(skus=opts["skus"]) if opts["fix"] else \
            selectors.stock_drift(skus=opts["skus"])
        for d in drifts:
            self.stdout.write(f"  DRIFT {d.sku} {d.field}: recorded={d.recorded} "
                              f"expected={d.expected}" + ("  → fixed" if opts["fix"] else ""))
        mismatches = selectors.reservation_mismatches() if not opts["skus"] else []
        for m in mismatches:
            self.stdout.write(f"  MISMATCH order {m.order_id}: {m.problem} (reservation "
                              f"{m.reservation_status or 'missing'}, order "
                              f"{m.order_status or 'missing'})")
        if not drifts:
            self.stdout.write(self.style.SUCCESS("0 drifts"))
        elif opts["fix"]:
            self.stdout.write(self.style.SUCCESS(f"{len(drifts)} drifts fixed"))
        self.stdout.write(f"{len(mismatches)} reservation mismatches")
        if mismatches:
            raise CommandError(f"{len(mismatches)} reservations disagree with their orders",
                               returncode=1)
        if drifts and not opts["fix"]:
            raise CommandError(f"{len(drifts)} drifts found (run with --fix to repair)",
                               returncode=1)
