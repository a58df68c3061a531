"""Django's JSON serialization format, with timestamps kept to the microsecond.

``DjangoJSONEncoder`` writes times to the millisecond (ECMAScript's date
format), so a ``dumpdata`` backup loaded back would lose the microseconds of
every timestamp, and a second dump of the restored data would differ from the
first. Registered for the ``json`` format in ``SERIALIZATION_MODULES``, so
``dumpdata``, ``loaddata`` and fixtures use it; reading is Django's own.
"""

import datetime

from django.core.serializers.json import Deserializer, DjangoJSONEncoder
from django.core.serializers.json import Serializer as DjangoSerializer

__all__ = ["Deserializer", "Serializer"]


class FullPrecisionEncoder(DjangoJSONEncoder):
    def default(self, o):
        if isinstance(o, datetime.datetime):
            text = o.isoformat()
            return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text
        if isinstance(o, datetime.time):
            return o.isoformat()
        return super().default(o)


class Serializer(DjangoSerializer):
    def _init_options(self):
        super()._init_options()
        if self.json_kwargs["cls"] is DjangoJSONEncoder:
            self.json_kwargs["cls"] = FullPrecisionEncoder
