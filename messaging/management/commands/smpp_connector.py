import logging
import signal

from django.core.management.base import BaseCommand

from messaging.operator.smpp_connector import Connector


class Command(BaseCommand):
    help = (
        "Hold the SMPP binds: one transceiver bind per enabled SMPP route, submitting the "
        "messages routed to it and receiving its receipts and replies. Runs until stopped."
    )

    def add_arguments(self, parser):
        parser.add_argument("--route", type=int, action="append", help="only this route id")
        parser.add_argument(
            "--rescan", type=float, default=10.0, help="seconds between scans for new routes"
        )

    def handle(self, *args, route=None, rescan=10.0, **options):
        logging.getLogger("smpp").setLevel(logging.WARNING)  # smpplib logs every connect
        connector = Connector(route_ids=route, rescan=rescan)

        def stop(signum, frame):
            connector.stop.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write("SMPP connector running (routes are read from the database)")
        connector.run()
