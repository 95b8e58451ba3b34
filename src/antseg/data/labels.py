"""Label policy shared by every importer: ``--map OLD=NEW``, ``--ignore LABEL``, ``--keep LABEL``."""

from __future__ import annotations

from dataclasses import dataclass, field

from antseg.anatomy import normalize_label
from antseg.errors import AntsegInputError


@dataclass
class LabelPolicy:
    """How source labels become canonical structure / landmark names.

    A label is resolved, in order, by ``mapping`` (explicit rename, any new name allowed), ``ignore``,
    ``keep`` (when given, every label not kept is ignored), then the importer's vocabulary of known
    labels. Anything else is unknown and reported all at once.

    Args:
        mapping: source label (any spelling) -> canonical name.
        ignore: source labels to drop.
        keep: if non-empty, only these labels (after mapping) are kept.
    """

    mapping: dict[str, str] = field(default_factory=dict)
    ignore: set[str] = field(default_factory=set)
    keep: set[str] = field(default_factory=set)

    @classmethod
    def from_cli(cls, maps: list[str] | None, ignore: list[str] | None, keep: list[str] | None = None) -> LabelPolicy:
        mapping = {}
        for item in maps or []:
            old, sep, new = item.partition("=")
            if not sep or not old.strip() or not new.strip():
                raise AntsegInputError(None, f"--map expects OLD=NEW, got {item!r}")
            mapping[normalize_label(old)] = normalize_label(new)
        return cls(
            mapping=mapping,
            ignore={normalize_label(x) for x in ignore or []},
            keep={normalize_label(x) for x in keep or []},
        )

    def resolve(self, label: str, vocabulary: dict[str, str]) -> str | None:
        """Canonical name for ``label``; None if ignored; KeyError if unknown.

        Args:
            vocabulary: normalised known label -> canonical name (the importer's aliases).
        """
        key = normalize_label(label)
        if key in self.ignore:
            return None
        name = self.mapping.get(key) or vocabulary.get(key)
        if self.keep and (name or key) not in self.keep and key not in self.keep:
            return None
        if name is None:
            raise KeyError(label)
        return name

    def resolve_all(self, labels: dict[str, str], vocabulary: dict[str, str]) -> dict[str, str | None]:
        """Resolve every label; one input error listing all unknown labels and where one was seen.

        Args:
            labels: source label -> a file where it occurs (for the error message).
        """
        out: dict[str, str | None] = {}
        unknown: dict[str, str] = {}
        for label, where in labels.items():
            try:
                out[label] = self.resolve(label, vocabulary)
            except KeyError:
                unknown[label] = where
        if unknown:
            first = next(iter(unknown.values()))
            names = ", ".join(sorted(unknown))
            raise AntsegInputError(
                first, f"unknown label(s): {names} (use --map OLD=NEW, --ignore LABEL or --keep LABEL)"
            )
        return out
