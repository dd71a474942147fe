"""Standard phrases: a catalogue code and typed parameters, rendered in the reader's language."""

from __future__ import annotations

from redline.domain.messages import MessageKind
from redline.domain.payloads import check_phrase
from redline.domain.phrases import LANGS, PhraseBody, load_catalogue
from redline.domain.threads import split_reply
from redline.services.kinds.base import Body, ConsoleFields, HumanTraffic


class PhraseKind(HumanTraffic):
    kind = MessageKind.PHRASE

    def check(self, body: Body) -> Body:
        return check_phrase(body)

    def api_fields(self, body: Body) -> Body:
        catalogue = load_catalogue()
        body, _ = split_reply(body)  # in_reply_to is shown beside the phrase, not inside it
        phrase = PhraseBody.parse(body, catalogue)
        shown = {lang: catalogue.present(phrase, lang) for lang in LANGS}
        return {
            "phrase": {
                **body,
                "text": {lang: p.text for lang, p in shown.items()},  # None where we cannot render it
                "catalogue_mismatch": shown["en"].version_mismatch,
            }
        }

    def console_fields(self, body: Body, lang: str) -> ConsoleFields:
        catalogue = load_catalogue()
        phrase = PhraseBody.parse(split_reply(body)[0], catalogue)
        return ConsoleFields(phrase=catalogue.present(phrase, lang))


SPEC = PhraseKind()
