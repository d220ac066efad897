"""All user-facing text, loaded from content/ by locale, with English as the fallback."""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.kernel.content import KERNEL_MESSAGES
from core.kernel.flows.schema import MAX_TEXT, Condition, Flow, _cond, parse_flow
from core.kernel.problems import ContentError, Problems

FALLBACK_LOCALE = "en"
# A locale folder's name: a language code, then any region or script ("es", "pt-br", "es-419").
LOCALE_FOLDER = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})*")

# The contract between code and content: every key the code uses, with its placeholders.


@dataclass(frozen=True)
class ContentContract:
    """What the code needs of content: each message key with its placeholders, the flows, and
    the messages every flow of a family needs (`ground_` -> `ground.label.{id}`). The features
    declare it (core/kernel/feature.py); core.api.content_contract() joins them all."""

    messages: Mapping[str, frozenset[str]] = field(default_factory=dict)
    flows: tuple[str, ...] = ()
    flow_messages: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def required(self, declared_flows: Iterable[str]) -> dict[str, frozenset[str]]:
        """Every key content must have, given the flows it declares."""
        keys = dict(self.messages)
        for prefix, templates in self.flow_messages.items():
            for fid in sorted(declared_flows):
                if fid.startswith(prefix):
                    keys.update(
                        {t.format(id=fid.removeprefix(prefix)): frozenset() for t in templates}
                    )
        return keys


@dataclass(frozen=True)
class Country:
    code: str
    name: str
    emergency: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class ReflectionRule:
    id: str
    when: tuple[Condition, ...]
    text: str
    offers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Catalog:
    locale: str
    messages: Mapping[str, str]
    flows: Mapping[str, Flow]
    reflections: tuple[ReflectionRule, ...]
    countries: Mapping[str, Country]
    # Which file each message came from, so a check names the right one.
    message_sources: Mapping[str, str] = field(default_factory=dict)
    # Flows that content defines, valid or not (an invalid one is reported where it is).
    declared_flows: frozenset[str] = frozenset()

    def text(self, key: str, **params: str | int) -> str:
        template = self.messages[key]
        return template.format(**params) if params else template

    def country(self, code: str) -> Country:
        return self.countries.get(code.upper()) or self.countries["INTL"]


class ContentLibrary:
    """Builds one merged catalog per locale: English, then the locale, then a group override."""

    def __init__(
        self, base: Path, override: Path | None = None, contract: ContentContract | None = None
    ) -> None:
        self._base = base
        self._override = override
        # What `load_all` holds content to: the features' (core.api.content_contract()).
        self._contract = contract
        self._cache: dict[str, Catalog] = {}

    def catalog(self, locale: str = FALLBACK_LOCALE) -> Catalog:
        wanted = _locale_chain(locale)
        for candidate in wanted:
            if candidate in self._cache:
                return self._cache[candidate]
            if candidate == FALLBACK_LOCALE or (self._base / candidate).is_dir():
                problems = Problems()
                built = self.build(candidate, problems)
                if problems:
                    raise ContentError(problems)
                self._cache[candidate] = built
                return built
        raise AssertionError("the fallback locale always resolves")

    def locales(self) -> tuple[str, ...]:
        """The shipped locales: English first, then every folder named like a locale."""
        found: set[str] = set()
        for root in (self._base, self._override):
            if root is not None and root.is_dir():
                found |= {p.name for p in root.iterdir() if p.is_dir()}
        others = sorted(n for n in found if LOCALE_FOLDER.fullmatch(n) and n != FALLBACK_LOCALE)
        return (FALLBACK_LOCALE, *others)

    def load_all(self) -> None:
        """Validates every locale at start, so a bad file fails loudly once, not mid-chat."""
        problems = check_content(self._base, self._override, self._contract)
        if problems:
            raise ContentError(problems)
        self.catalog(FALLBACK_LOCALE)

    def build(self, locale: str, problems: Problems) -> Catalog:
        """The merged catalog; every problem found goes into `problems`, none is raised."""
        layers = [self._base / FALLBACK_LOCALE]
        if locale != FALLBACK_LOCALE:
            layers.append(self._base / locale)
        if self._override is not None:
            layers += [self._override / FALLBACK_LOCALE, self._override / locale]
        raw = _Raw()
        for layer in layers:
            if layer.is_dir():
                raw.merge(_read_layer(layer, problems))
        return raw.build(locale, problems)


def _locale_chain(locale: str) -> list[str]:
    cleaned = "".join(ch for ch in locale if ch.isalnum() or ch in "-_")[:16]
    chain = [cleaned, cleaned.split("-")[0].split("_")[0], FALLBACK_LOCALE]
    return [c for i, c in enumerate(chain) if c and c not in chain[:i]]


@dataclass
class _Raw:
    messages: dict[str, tuple[str, str]]
    flows: dict[str, tuple[str, dict[str, Any]]]
    reflections: tuple[str, list[Any]] | None
    countries: dict[str, tuple[str, dict[str, Any]]]

    def __init__(self) -> None:
        self.messages, self.flows, self.reflections, self.countries = {}, {}, None, {}

    def merge(self, other: _Raw) -> None:
        self.messages.update(other.messages)
        self.flows.update(other.flows)
        self.countries.update(other.countries)
        if other.reflections is not None:
            self.reflections = other.reflections

    def build(self, locale: str, problems: Problems) -> Catalog:
        flows: dict[str, Flow] = {}
        for fid, (where, data) in self.flows.items():
            flow = parse_flow(data, where, problems)
            if flow is not None:
                flows[fid] = flow
        countries = {
            code: c
            for code, (where, data) in self.countries.items()
            if (c := _country(code, data, where, problems))
        }
        where, rules_raw = self.reflections or ("reflections.toml", [])
        rules = _reflections(rules_raw, where, problems)
        messages = {k: v for k, (_, v) in self.messages.items()}
        sources = {k: where for k, (where, _) in self.messages.items()}
        declared = frozenset(self.flows)
        return Catalog(locale, messages, flows, rules, countries, sources, declared)


def _read_layer(folder: Path, problems: Problems) -> _Raw:
    raw = _Raw()
    # messages.toml, plus one file per feature in messages/, all in one key space.
    message_files = [folder / "messages.toml", *sorted((folder / "messages").glob("*.toml"))]
    for messages_file in message_files:
        if (data := _load(messages_file, problems)) is None:
            continue
        for key, value in _flatten(data):
            if not isinstance(value, str):
                problems.add(str(messages_file), key, "must be text")
            elif key in raw.messages:
                problems.add(str(messages_file), key, f"is also defined in {raw.messages[key][0]}")
            else:
                raw.messages[key] = (str(messages_file), value)
    flows_dir = folder / "flows"
    if flows_dir.is_dir():
        for path in sorted(flows_dir.glob("*.toml")):
            if (data := _load(path, problems)) is not None:
                fid = data.get("id")
                if not isinstance(fid, str):
                    problems.add(str(path), "id", "every flow needs an id")
                    continue
                if fid in raw.flows:
                    problems.add(str(path), "id", f'flow "{fid}" is defined twice')
                raw.flows[fid] = (str(path), data)
    reflections_file = folder / "reflections.toml"
    if (data := _load(reflections_file, problems)) is not None:
        rules = data.get("rules", [])
        raw.reflections = (str(reflections_file), rules if isinstance(rules, list) else [])
    crisis_file = folder / "crisis.toml"
    if (data := _load(crisis_file, problems)) is not None:
        countries = data.get("countries", {})
        if not isinstance(countries, dict):
            problems.add(str(crisis_file), "countries", "must be a table of [countries.<CODE>]")
        else:
            for code, entry in countries.items():
                raw.countries[code.upper()] = (str(crisis_file), entry)
    return raw


def _load(path: Path, problems: Problems) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        problems.add(str(path), "", f"is not valid TOML ({exc})")
    except (OSError, UnicodeDecodeError) as exc:
        problems.add(str(path), "", f"cannot be read ({exc.__class__.__name__})")
    return None


def _flatten(data: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in data.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _flatten(value, full + ".")
        else:
            yield full, value


def _country(code: str, data: Any, where: str, problems: Problems) -> Country | None:
    key = f"countries.{code}"
    if not isinstance(data, dict):
        problems.add(where, key, "must be a table")
        return None
    name, emergency, lines = data.get("name"), data.get("emergency"), data.get("lines", [])
    if not isinstance(name, str) or not isinstance(emergency, str):
        problems.add(
            where, key, 'needs name and emergency, e.g. name = "Canada", emergency = "911"'
        )
        return None
    if not isinstance(lines, list) or not lines or not all(isinstance(x, str) for x in lines):
        problems.add(where, f"{key}.lines", "needs at least one line of text")
        return None
    return Country(code, name, emergency, tuple(lines))


def _reflections(raw: list[Any], where: str, problems: Problems) -> tuple[ReflectionRule, ...]:
    rules: list[ReflectionRule] = []
    for i, item in enumerate(raw):
        key = f"rules[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            problems.add(
                where,
                key,
                'needs id, text and when, e.g. when = [{ answer = "urge", op = "gte", value = 7 }]',
            )
            continue
        when = item.get("when", [])
        when = [when] if isinstance(when, dict) else when
        conds = tuple(
            c for j, w in enumerate(when) if (c := _cond(w, f"{key}.when[{j}]", where, problems))
        )
        offers = item.get("offers", [])
        if not isinstance(offers, list) or not all(isinstance(o, str) for o in offers):
            problems.add(where, f"{key}.offers", 'must be a list like ["ground"]')
            offers = []
        rules.append(ReflectionRule(str(item.get("id", key)), conds, item["text"], tuple(offers)))
    return tuple(rules)


def check_content(
    base: Path, override: Path | None = None, contract: ContentContract | None = None
) -> Problems:
    """Everything `unblend content check` reports: schema, references, limits, placeholders,
    and, given the features' contract (core.api.content_contract()), every key and flow the
    code needs. Without one, the kernel's own texts (navigation, flows, input) only."""
    contract = contract or ContentContract(
        {k: frozenset(v.split()) for k, v in KERNEL_MESSAGES.items()}
    )
    problems = Problems()
    if not (base / FALLBACK_LOCALE).is_dir():
        problems.add(str(base), "", f"has no {FALLBACK_LOCALE}/ folder; English is the fallback")
        return problems
    locales = sorted(
        p.name for p in base.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))
    )
    library = ContentLibrary(base, override)
    for locale in locales:
        catalog = library.build(locale, problems)
        _check_catalog(catalog, base / locale, problems, contract)
    # Many problems repeat once per locale through the English fallback: report each once.
    unique = list(dict.fromkeys(problems.items))
    problems.items[:] = unique
    return problems


# A slash command option's name in a locale (Discord's rule for names).
OPTION_NAME_PREFIX = "discord.param."
OPTION_NAME = re.compile(r"[-_\w]{1,32}")


def _option_name(value: str) -> bool:
    return bool(OPTION_NAME.fullmatch(value)) and value == value.lower()


def _check_catalog(
    catalog: Catalog, folder: Path, problems: Problems, contract: ContentContract
) -> None:
    default_where = str(folder / "messages.toml")
    for key, fields in contract.required(catalog.declared_flows).items():
        where = catalog.message_sources.get(key, default_where)
        if key not in catalog.messages:
            problems.add(where, key, "is missing")
            continue
        try:
            used = {
                name for _, name, _, _ in string.Formatter().parse(catalog.messages[key]) if name
            }
        except ValueError as exc:
            problems.add(where, key, f"has a broken placeholder ({exc}); write {{{{ for a brace")
            continue
        if unknown := used - fields:
            allowed = ", ".join(sorted(fields)) or "none"
            problems.add(
                where,
                key,
                f"uses {{{', '.join(sorted(unknown))}}}; allowed placeholders: {allowed}",
            )
    for key, value in catalog.messages.items():
        if key.startswith(OPTION_NAME_PREFIX) and not _option_name(value):
            where = catalog.message_sources.get(key, default_where)
            problems.add(
                where, key, "an option's name: 1-32 lower-case letters, digits, - or _, no spaces"
            )
        if len(value) > MAX_TEXT:
            where = catalog.message_sources.get(key, default_where)
            problems.add(where, key, f"is {len(value)} characters; the limit is {MAX_TEXT}")
    for fid in contract.flows:
        if fid not in catalog.declared_flows:
            problems.add(str(folder / "flows"), fid, "this flow is required")
    for rule in catalog.reflections:
        for offer in rule.offers:
            if offer not in catalog.flows and offer not in {"history", "ground"}:
                problems.add(str(folder / "reflections.toml"), rule.id, f'offers unknown "{offer}"')
    if "INTL" not in catalog.countries:
        problems.add(
            str(folder / "crisis.toml"), "countries.INTL", "the fallback entry is required"
        )
