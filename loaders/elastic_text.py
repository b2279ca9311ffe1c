"""Elastic fields indexed as full text, where a plain KQL or Lucene value is a phrase search.

A KQL ``:`` or Lucene ``field:value`` compares a keyword field with the whole value, but on a
``text`` or ``match_only_text`` field Elasticsearch runs a match (phrase) query: the field
contains the words. Such a check is "contains x", which the canonical form writes as the
wildcard ``*x*``, the form Sigma's ``contains`` and SPL's ``"*x*"`` take. A phrase is bounded by
words and ``*x*`` is not, a slight widening of the same kind `unescape_pattern` accepts. ES|QL
``==`` and EQL compare the whole value on any field and are not affected.
"""

from __future__ import annotations

# Fields whose mapping is text, from the schema that defines them:
# - message, error.message: ECS, type match_only_text;
# - powershell.file.script_block_text: Elastic's windows integration
#   (packages/windows/data_stream/powershell_operational/fields/fields.yml), type text with the
#   powershell_script_analyzer.
TEXT_FIELDS = frozenset({"message", "error.message", "powershell.file.script_block_text"})

# ECS's multi-field for full-text search of a keyword field (process.command_line.text) is
# match_only_text whatever field it belongs to.
_TEXT_SUFFIX = ".text"


def is_text_field(name: str | None) -> bool:
    """True when a field, as the rule writes it, is searched as full text."""
    return bool(name) and (name in TEXT_FIELDS or str(name).endswith(_TEXT_SUFFIX))


def phrase_pattern(value: str) -> str:
    """The canonical wildcard of a phrase search: ``Get-DomainUser`` -> ``*Get-DomainUser*``.

    A ``*`` or ``?`` inside the phrase is literal there; canonical patterns carry no escapes, so
    it is kept as the one-character wildcard (as `unescape_pattern` does).
    """
    inner = value.replace("*", "?")
    return f"*{inner}*"
