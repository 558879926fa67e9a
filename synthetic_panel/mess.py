"""Everything real exports contain on top of clean answers (docs/contracts/inputs.md), and the invitations.

Each kind of mess happens at `config.MESS_RATES[kind] * mess` and is drawn from its own random stream, so
the clean responses of record (the calibrated base) are the same at every mess level. Structural faults
that keep a whole row out (test submissions before the field period, repeated ids) never hide a person's
response of record; out-of-range values and unknown codes added here sit on extra rows (duplicates,
partials, tests) and may hit any cell. Optional-cell defects on responses of record (never in a cell of a
published figure), municipality names as people type them and the `_truth/defects.csv` list come from
`synthetic_panel.defects`, with streams of their own. Waves after w3 use streams of their own too
(`run_wave`), so adding waves changes nothing before.
"""
from __future__ import annotations

import datetime as dt
import string
from dataclasses import dataclass

import numpy as np

from synthetic_panel import config
from synthetic_panel.config import layout_of
from synthetic_panel.defects import UNKNOWN_CODES, CellDefects
from synthetic_panel.panel import INVITATIONS_SENT, W1, W2, W3, Panel, Response, draw_arrival, record_answers, submit_time
from synthetic_panel.people import choose, draw_person, make_email, month_index

QUESTION_ORDER = {
    W1: ["language", "gender", "birth_year", "oblast", "arrival", "kommune", "children_norway", "children_ukraine",
         "partner", "network", "war_duration", "aspiration", "working", "email", "consent"],
    "later": ["language", "gender", "birth_year", "oblast", "arrival", "country", "kommune", "left", "aspiration",
              "reasons", "children_norway", "partner", "working", "email", "consent"],
}
DOMAIN_TYPOS = {"gmail.com": ["gmial.com", "gmal.com", "gmail.co", "gmai.com"], "ukr.net": ["urk.net", "ukr.nte"],
                "outlook.com": ["outlok.com"], "yahoo.com": ["yaho.com"], "hotmail.com": ["hotmial.com"]}
TOKEN_ALPHABET = string.ascii_letters + string.digits


@dataclass
class Invitation:
    token: str
    email: str
    invited_at: dt.datetime
    source_wave: str
    person_id: str


def count_for(kind: str, mess: float, base: int) -> int:
    return int(round(config.MESS_RATES[kind] * mess * base))


def pick(rng: np.random.Generator, items: list, n: int) -> list:
    """n distinct items, in their original order (deterministic for a seed)."""
    n = min(n, len(items))
    if n <= 0:
        return []
    return [items[int(i)] for i in sorted(rng.choice(len(items), size=n, replace=False))]


def format_email(rng: np.random.Generator, address: str) -> str:
    """The same address as someone might type it: capitals, stray spaces or a trailing dot."""
    variant = int(rng.integers(0, 5))
    if variant == 0:
        return address[0].upper() + address[1:]
    if variant == 1:
        return address.upper() if rng.random() < 0.3 else address.title()
    if variant == 2:
        return " " + address + " "
    if variant == 3:
        return address + "."
    local, domain = address.split("@", 1)
    return f"{local} @{domain}"


def typo_email(rng: np.random.Generator, address: str) -> str:
    """A mistyped address: a misspelt domain (`gmial.com`) or a dropped/swapped letter."""
    local, domain = address.split("@", 1)
    if domain in DOMAIN_TYPOS and rng.random() < 0.7:
        return f"{local}@{rng.choice(DOMAIN_TYPOS[domain])}"
    i = int(rng.integers(1, max(2, len(local) - 1)))
    if rng.random() < 0.5 and len(local) > 3:
        return f"{local[:i]}{local[i + 1:]}@{domain}"
    swapped = local[: i - 1] + local[i] + local[i - 1] + local[i + 1:] if i < len(local) else local + local[-1]
    if swapped == local:
        swapped = local + local[-1]
    return f"{swapped}@{domain}"


def oblast_label_variant(label: str, variant: int) -> str:
    """Case and spacing are not guaranteed in the w1 export: four ways the label may come out."""
    return [label.lower(), label.upper(), f" {label}  ", label.replace(" ", "  ")][variant]


class MessMaker:
    """Adds mess to one clean panel, wave by wave, and issues the invitations."""

    def __init__(self, panel: Panel, mess: float, rng: np.random.Generator, token_rng: np.random.Generator,
                 cells: CellDefects):
        self.panel = panel
        self.mess = mess
        self.rng = rng
        self.token_rng = token_rng
        self.cells = cells
        self.invitations: dict[str, list[Invitation]] = {}
        self.used_tokens: set[str] = set()
        self.taken_emails = {p.email for p in panel.persons.values()}

    # ---- helpers ------------------------------------------------------------------------------------------
    def waves_before(self, wave_id: str) -> list[str]:
        waves = list(self.panel.responses)
        return waves[: waves.index(wave_id)]

    def records(self, wave_id: str) -> list[Response]:
        return [r for r in self.panel.responses[wave_id] if r.kind == "record"]

    def new_token(self) -> str:
        while True:
            token = "".join(self.token_rng.choice(list(TOKEN_ALPHABET), size=12))
            if token not in self.used_tokens:
                self.used_tokens.add(token)
                return token

    def new_person(self, wave_id: str):
        pid = f"P{len(self.panel.persons) + 1:06d}"
        year = int(wave_id[-4:])
        person = draw_person(self.rng, pid, wave_id, draw_arrival(self.rng, wave_id), self.taken_emails,
                             {"female": 0.7, "male": 0.28, "other": 0.02}, year, self.panel.core.kommuner)
        person.aspiration[wave_id] = choose(self.rng, {"return_asap": 0.2, "uncertain": 0.6, "stay_norway": 0.2})
        person.working[wave_id] = bool(self.rng.random() < 0.3)
        person.consent[wave_id] = None
        self.panel.persons[pid] = person
        return person

    def partial_copy(self, wave_id: str, answers: dict, pid: str, channel: str, submitted: dt.datetime,
                     token: str | None = None) -> Response:
        order = QUESTION_ORDER[W1] if wave_id == W1 else QUESTION_ORDER["later"]
        cut = int(self.rng.integers(3, len(order) - 2))
        partial = {k: (v if k not in order[cut:] else None) for k, v in answers.items()}
        return Response(wave_id, pid, submitted, False, channel, "partial", partial, token=token)

    def earlier(self, record: Response, max_hours: float) -> dt.datetime:
        """A time before the record's, still inside the field period (after the invitation for token answers)."""
        opens = INVITATIONS_SENT if record.channel == "token" else dt.time(0, 1)
        start = dt.datetime.combine(config.field_period(record.wave_id)[0], opens) + dt.timedelta(minutes=1)
        room = (record.submitted - start).total_seconds()
        seconds = min(self.rng.uniform(300, max_hours * 3600), max(room * 0.9, 60))
        return record.submitted - dt.timedelta(seconds=int(seconds))

    # ---- invitations --------------------------------------------------------------------------------------
    def invite(self, wave_id: str) -> None:
        """One invitation per consenting address of the earlier waves (the latest address of a person wins),
        except to those who withdrew their consent when they last answered."""
        start = dt.datetime.combine(config.field_period(wave_id)[0], INVITATIONS_SENT)
        earlier_waves = self.waves_before(wave_id)
        last_consent = {r.person_id: r.answers.get("consent") for w in earlier_waves for r in self.records(w)}
        withdrawn = {pid for pid, consent in last_consent.items() if consent is False}
        invitations: list[Invitation] = []
        seen: set[tuple[str, str]] = set()
        for source in earlier_waves:
            for record in sorted(self.records(source), key=lambda r: r.person_id):
                email = record.answers.get("email")
                if not email or record.answers.get("consent") is not True or record.person_id in withdrawn:
                    continue
                if (record.person_id, email) in seen:
                    continue
                seen.add((record.person_id, email))
                sent = start + dt.timedelta(seconds=len(invitations) // 20)
                invitations.append(Invitation(self.new_token(), email, sent, source, record.person_id))
        self.invitations[wave_id] = invitations
        latest = {inv.person_id: inv.token for inv in invitations}
        for response in self.panel.responses[wave_id]:
            if response.channel == "token":
                response.token = latest[response.person_id]

    # ---- mess kinds ---------------------------------------------------------------------------------------
    def share_family_emails(self) -> None:
        records = {r.person_id: r for r in self.records(W1)}
        pairs = [(a, b) for a, b in self.panel.relative_pairs
                 if records[a].answers["email"] and records[b].answers["email"]]
        for anchor, relative in pick(self.rng, pairs, count_for("shared_family_email", self.mess, len(pairs))):
            records[relative].answers["email"] = records[anchor].answers["email"]
            records[relative].mess.append("shared_family_email")

    def ignore_tokens(self, wave_id: str) -> None:
        token_records = [r for r in self.records(wave_id) if r.channel == "token"]
        for record in pick(self.rng, token_records, count_for("token_ignored", self.mess, len(token_records))):
            person = self.panel.persons[record.person_id]
            how = choose(self.rng, config.TOKEN_IGNORED_EMAIL)
            last_typed = self.last_typed_email(record.person_id, wave_id) or person.email
            email = {"same": last_typed, "typo": typo_email(self.rng, person.email),
                     "changed": make_email(self.rng, person.gender, person.birth_year, self.taken_emails)}[how]
            record.channel, record.token = "open", None
            record.answers["email"] = email
            record.mess.append(f"token_ignored_{how}_email")

    def last_typed_email(self, pid: str, before_wave: str) -> str | None:
        typed = None
        for wave_id in self.waves_before(before_wave):
            for r in self.records(wave_id):
                if r.person_id == pid and r.answers.get("email"):
                    typed = r.answers["email"]
        return typed

    def format_emails(self, wave_id: str) -> None:
        with_email = [r for r in self.panel.responses[wave_id] if r.answers.get("email") and r.kind != "test"]
        for response in pick(self.rng, with_email, count_for("email_formatting", self.mess, len(with_email))):
            response.answers["email"] = format_email(self.rng, response.answers["email"])
            response.mess.append("email_formatting")

    def misreport(self, wave_id: str) -> None:
        panel_records = [r for r in self.records(wave_id) if self.panel.persons[r.person_id].entry_wave != wave_id]
        for record in pick(self.rng, panel_records, count_for("inconsistent_report", self.mess, len(panel_records))):
            if self.rng.random() < 0.5:
                record.answers["birth_year"] = int(record.answers["birth_year"]) + int(self.rng.choice([-1, 1]))
                record.mess.append("inconsistent_birth_year")
            else:
                step = 1 if record.answers["arrival"] <= month_index(2022, 3) else -1
                record.answers["arrival"] = int(record.answers["arrival"]) + step
                record.mess.append("inconsistent_arrival_month")

    def odd_labels(self) -> None:
        rows = [r for r in self.panel.responses[W1] if r.answers.get("oblast")]
        for response in pick(self.rng, rows, count_for("label_formatting", self.mess, len(rows))):
            response.raw["oblast_label_variant"] = int(self.rng.integers(0, 4))
            response.mess.append("label_formatting")

    def add_extras(self, wave_id: str) -> None:
        """Duplicate submissions, abandoned partials before a complete one, and partial-only respondents."""
        records = self.records(wave_id)
        extras: list[Response] = []
        for record in pick(self.rng, records, count_for("duplicate_submission", self.mess, len(records))):
            answers = dict(record.answers)
            if answers.get("working") is not None and self.rng.random() < 0.3:
                answers["working"] = not answers["working"]
            kinds = ["duplicate_submission"]
            if answers.get("email"):  # the first try had the address slightly wrong, so they submitted again
                retyped = self.rng.random()
                if retyped < 0.2:
                    answers["email"], kinds = format_email(self.rng, answers["email"]), kinds + ["email_formatting"]
                elif retyped < 0.4:
                    answers["email"], kinds = typo_email(self.rng, answers["email"].strip()), kinds + ["email_typo"]
            extras.append(Response(wave_id, record.person_id, self.earlier(record, 72), True, record.channel,
                                   "duplicate", answers, token=record.token, mess=kinds))
        for record in pick(self.rng, records, count_for("partial_then_complete", self.mess, len(records))):
            partial = self.partial_copy(wave_id, record.answers, record.person_id, record.channel,
                                        self.earlier(record, 48), record.token)
            partial.mess.append("partial_then_complete")
            extras.append(partial)
        extras += self.partial_only(wave_id, count_for("partial_only", self.mess, len(records)))
        self.panel.responses[wave_id].extend(extras)

    def partial_only(self, wave_id: str, n: int) -> list[Response]:
        """People who start and abandon the questionnaire: silent panel members (token) or newcomers."""
        rows = []
        silent = []
        if wave_id != W1:
            answered = {r.person_id for r in self.panel.responses[wave_id]}
            silent = sorted({inv.person_id for inv in self.invitations[wave_id]} - answered)
        from_panel = pick(self.rng, silent, n // 2)
        tokens = {inv.person_id: inv.token for inv in self.invitations.get(wave_id, [])}
        for pid in from_panel:
            person = self.panel.persons[pid]
            answers = record_answers(person, wave_id, "token")
            if answers["country"] == "norway" and not answers["kommune"]:
                answers["kommune"] = next(iter(person.kommune.values()))
            submitted = submit_time(self.rng, wave_id, channel="token")
            rows.append(self.partial_copy(wave_id, answers, pid, "token", submitted, tokens[pid]))
        for _ in range(n - len(from_panel)):
            person = self.new_person(wave_id)
            rows.append(self.partial_copy(wave_id, record_answers(person, wave_id, "open"), person.person_id, "open",
                                          submit_time(self.rng, wave_id)))
        for row in rows:
            row.mess.append("partial_only")
        return rows

    def add_test_rows(self, wave_id: str) -> None:
        n_rows = len(self.panel.responses[wave_id])
        start = config.field_period(wave_id)[0]
        for i in range(count_for("test_submission", self.mess, n_rows)):
            template = draw_person(self.rng, "P000000", wave_id, draw_arrival(self.rng, wave_id), set(),
                                   {"female": 0.5, "male": 0.5}, int(wave_id[-4:]), self.panel.core.kommuner)
            template.aspiration[wave_id] = "uncertain"
            template.working[wave_id] = False
            template.consent[wave_id] = False
            template.gives_email[wave_id] = bool(self.rng.random() < 0.5)
            template.email = f"test{i + 1}@survey-team.example"
            day = start - dt.timedelta(days=int(self.rng.integers(1, 12)))
            submitted = dt.datetime.combine(day, dt.time(int(self.rng.integers(9, 16)), int(self.rng.integers(0, 60))))
            answers = record_answers(template, wave_id, "open")
            if answers["country"] == "norway" and not answers["kommune"]:
                answers["kommune"] = next(iter(template.kommune.values()))
            self.panel.responses[wave_id].append(
                Response(wave_id, "", submitted, bool(self.rng.random() < 0.7), "open", "test", answers,
                         mess=["test_submission"]))

    def add_bad_values(self, wave_id: str) -> None:
        rows = self.panel.responses[wave_id]
        carriers = [r for r in rows if r.kind in ("duplicate", "partial")]
        tests = [r for r in rows if r.kind == "test"]
        n_range = count_for("out_of_range_value", self.mess, len(rows))
        n_code = count_for("unknown_code", self.mess, len(rows))
        chosen = pick(self.rng, carriers, n_range + n_code)
        chosen += pick(self.rng, tests, n_range + n_code - len(chosen))
        order = self.rng.permutation(len(chosen))
        for rank, index in enumerate(order):
            row = chosen[int(index)]
            if rank < n_range:
                if row.answers.get("children_norway") is not None and self.rng.random() < 0.4:
                    row.raw["children_norway"] = 99
                    row.defects.append(("children_norway", "out_of_range_value"))
                else:
                    row.raw["birth_year"] = 1899
                    row.defects.append(("birth_year", "out_of_range_value"))
                row.mess.append("out_of_range_value")
            else:
                codes = UNKNOWN_CODES[layout_of(wave_id)]
                options = [c for c in codes if row.answers.get(c) is not None]
                concept = str(self.rng.choice(options))
                row.raw[concept] = codes[concept]
                row.mess.append("unknown_code")
                row.defects.append((concept, "unknown_code"))

    def repeat_ids(self, wave_id: str) -> None:
        rows = self.panel.responses[wave_id]
        records = self.records(wave_id)
        for record in pick(self.rng, records, count_for("duplicated_response_id", self.mess, len(rows))):
            rows.append(Response(wave_id, record.person_id, record.submitted, record.complete, record.channel, "dup_id",
                                 record.answers, dict(record.raw), ["duplicated_response_id"], record.token,
                                 copy_of=record, defects=list(record.defects)))

    # ---- driver -------------------------------------------------------------------------------------------
    def run(self) -> dict[str, list[Invitation]]:
        """Mess on w1-w3 (and their invitations), in the order that fixes the published data set."""
        self.share_family_emails()
        self.format_emails(W1)
        self.odd_labels()
        self.add_extras(W1)
        self.add_test_rows(W1)
        self.add_bad_values(W1)
        self.finish(W1)
        for wave_id in (W2, W3):
            self.invite(wave_id)
            self.ignore_tokens(wave_id)
            self.misreport(wave_id)
            self.add_extras(wave_id)
            self.format_emails(wave_id)
            self.add_test_rows(wave_id)
            self.add_bad_values(wave_id)
            self.finish(wave_id)
        return self.invitations

    def run_wave(self, wave_id: str, rng: np.random.Generator, token_rng: np.random.Generator) -> None:
        """Invitations and mess of a wave after w3, from the wave's own streams."""
        self.rng, self.token_rng = rng, token_rng
        self.invite(wave_id)
        self.ignore_tokens(wave_id)
        self.misreport(wave_id)
        self.add_extras(wave_id)
        self.format_emails(wave_id)
        self.add_test_rows(wave_id)
        self.add_bad_values(wave_id)
        self.finish(wave_id)

    def finish(self, wave_id: str) -> None:
        """Names as typed and defects on records (own streams), then rows repeated by the export."""
        self.cells.apply(wave_id, self.panel, self.mess)
        self.repeat_ids(wave_id)
