import time

from django.core.management.base import BaseCommand, CommandError

from commerce.eventstore.replay import rebuild, select_projections


class Command(BaseCommand):
    help = (
        "Rebuild read models from the event store in position order. With --verify, rebuild "
        "inside a rolled-back transaction and list every difference from the live tables "
        "(exit status 1 when there is any)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--aggregate-type", action="append", dest="aggregate_types",
                            help="only projections fed by this aggregate type (repeatable)")
        parser.add_argument("--projection", action="append", dest="names",
                            help="only this projection (repeatable)")
        parser.add_argument("--verify", action="store_true",
                            help="compare a rebuild with the live tables; change nothing")
        parser.add_argument("--max-report", type=int, default=200,
                            help="differences printed at most (all are counted)")

    def handle(self, *args, **opts):
        projections = select_projections(names=opts["names"],
                                         aggregate_types=opts["aggregate_types"])
        if not projections:
            raise CommandError("no registered projection matches the filters")
        mode = "verify" if opts["verify"] else "rebuild"
        names = ", ".join(p.name for p in projections)
        self.stdout.write(f"{mode}: {names}")
        started = time.monotonic()
        result = rebuild(
            projections, verify=opts["verify"],
            progress=lambda n: self.stdout.write(f"  … {n} events replayed"),
        )
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"{mode} done: {result.events} events, {len(projections)} projections, "
            f"{elapsed:.2f}s"
        )
        if opts["verify"]:
            for diff in result.differences[: opts["max_report"]]:
                self.stdout.write(f"  DIFF {diff.describe()}")
            if result.differences:
                raise CommandError(f"{len(result.differences)} differences found", returncode=1)
            self.stdout.write(self.style.SUCCESS("0 differences"))
