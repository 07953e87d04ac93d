"""The API's JSON parser, in a module of its own: DRF resolves its parser setting while it imports
its views, so this module must not import them."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding

from console import documents


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser, refusing a body too large or nested too deeply (400 with the reason)
    before any view or serializer walks it."""

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read(documents.MAX_BYTES + 1) if stream is not None else b""
        try:
            return documents.load_json(body.decode(get_encoding(parser_context or {})))
        except documents.DocumentError as error:
            raise ParseError(error.message) from None
        except ValueError as error:  # UnicodeDecodeError too
            raise ParseError(f"JSON parse error - {error}") from None
