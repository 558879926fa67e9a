"""UDI statistics snapshots: applications, decisions and valid permits, one folder per monthly retrieval.

Population level (independent of --scale and --mess). Final monthly figures are calibrated to the published
totals in docs/domain.md; each retrieval shows the current year's months as known on that date (recent months
a little low, revised upward later: *vintages*).
"""
from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

import numpy as np

from synthetic_panel.people import month_index, month_of
from synthetic_panel.reference import counties_valid_on

FIRST_SNAPSHOT = dt.date(2022, 4, 5)
LAST_SNAPSHOT = dt.date(2025, 10, 5)
MONTH_LABELS = ["Jan", "Feb", "Mar", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov", "Des"]
AGE_GROUPS = ["0-5", "6-10", "11-17", "18-34", "35-49", "50-66", "67+"]
AGE_SHARES = {"0-5": 0.08, "6-10": 0.09, "11-17": 0.14, "18-34": 0.22, "35-49": 0.25, "50-66": 0.15, "67+": 0.07}
FEMALE_SHARE_BY_AGE = {"0-5": 0.49, "6-10": 0.49, "11-17": 0.48, "18-34": 0.72, "35-49": 0.75, "50-66": 0.68, "67+": 0.65}
COUNTY_SHARES = {
    "Oslo": 0.10, "Rogaland": 0.09, "Møre og Romsdal": 0.05, "Nordland": 0.06, "Viken": 0.22, "Innlandet": 0.08,
    "Vestfold og Telemark": 0.08, "Agder": 0.06, "Vestland": 0.12, "Trøndelag": 0.09, "Troms og Finnmark": 0.05,
    "Østfold": 0.07, "Akershus": 0.11, "Buskerud": 0.04, "Vestfold": 0.045, "Telemark": 0.035, "Troms": 0.032,
    "Finnmark": 0.018,
}

# Final applications from Ukrainian citizens per month (2024 Jan-Sep as published by UDI).
UKRAINE_APPLICATIONS = {
    2022: [0, 0, 9620, 6800, 3900, 2900, 2700, 2400, 2200, 2100, 1900, 1400],  # 35 920
    2023: [2000, 2100, 2300, 2300, 2500, 2700, 3100, 4100, 4500, 4400, 3700, 2761],  # 36 461
    2024: [1639, 1361, 1383, 1255, 1248, 1538, 1443, 1908, 2099, 1500, 1100, 1000],
    2025: [1000, 850, 900, 800, 750, 800, 850, 900, 800, 0, 0, 0],
}
# Share of one month's applications decided in that month and the following ones.
DECISION_LAG = [0.2, 0.4, 0.2, 0.1, 0.1]
# Calibration of granted protection (sum of final monthly figures over the period).
GRANTED_TARGETS = [((2022, 1), (2023, 12), 66_900), ((2024, 1), (2024, 12), 21_100), ((2025, 1), (2025, 8), 6_020)]
# Valid-permit stock at the end of a month (shown in the next month's snapshot).
STOCK_TARGETS = [((2024, 12), 79_000), ((2025, 7), 82_000)]
# After the last target more permits lapse than are granted, so the stock turns down in the last snapshots.
LATE_DEPARTURE_RATE = 0.013
# Other citizenships that applied for collective protection: mean applications per month from March 2022.
OTHER_CITIZENSHIPS = {"Russland": 12.0, "Statsløs": 4.0, "Hviterussland": 3.0, "Moldova": 2.0, "Aserbajdsjan": 2.0,
                      "Usbekistan": 1.5, "Georgia": 1.0, "Armenia": 1.0}
SAFE_AREAS_RULE = month_index(2024, 10)  # from 28 September 2024 people from safe areas get no collective protection
START = month_index(2022, 1)
END = month_index(2025, 9)


# After the published months: applications keep falling slowly (only for snapshots after LAST_SNAPSHOT).
LATER_APPLICATIONS, LATER_DECLINE = 800, 0.98


def last_snapshot(cover_until: dt.date | None) -> dt.date:
    """2025-10-05, or later when a survey wave opens after it: the 5th after its field period ends."""
    if cover_until is None or cover_until <= LAST_SNAPSHOT + dt.timedelta(days=60):
        return LAST_SNAPSHOT
    year, month = month_of(month_index(cover_until.year, cover_until.month) + 1)
    return dt.date(year, month, 5)


def snapshot_dates(last: dt.date = LAST_SNAPSHOT) -> list[dt.date]:
    """The 5th of every month from April 2022 to October 2025 (or `last`)."""
    dates, index = [], month_index(FIRST_SNAPSHOT.year, FIRST_SNAPSHOT.month)
    while index <= month_index(last.year, last.month):
        year, month = month_of(index)
        dates.append(dt.date(year, month, 5))
        index += 1
    return dates


class UdiModel:
    """Final monthly figures per citizenship, and the permit stock by month."""

    def __init__(self, rng: np.random.Generator, end: int = END, later_rng: np.random.Generator | None = None):
        """Months START..END from `rng`; months after END (snapshots after 2025-10-05) from `later_rng`,
        so that extending the history leaves every earlier figure as it was."""
        self.rng = rng
        self.end = end
        base, later = range(START, END + 1), range(END + 1, end + 1)
        self.applications: dict[str, dict[int, int]] = {"Ukraina": {
            m: UKRAINE_APPLICATIONS[month_of(m)[0]][month_of(m)[1] - 1] for m in base}}
        self.applications["Ukraina"] |= {m: round(LATER_APPLICATIONS * LATER_DECLINE ** (m - END)) for m in later}
        for name, mean in OTHER_CITIZENSHIPS.items():
            boost = {month_index(2022, 3): 3.0, month_index(2022, 4): 2.0}
            self.applications[name] = {
                m: int(rng.poisson(mean * boost.get(m, 1.0))) if m >= month_index(2022, 3) else 0 for m in base}
        for name, mean in OTHER_CITIZENSHIPS.items():
            self.applications[name] |= {m: int(later_rng.poisson(mean)) for m in later}
        self.granted = {"Ukraina": self.calibrated_grants()}
        self.refused = {"Ukraina": {m: round(g * (0.10 if m >= SAFE_AREAS_RULE else 0.015)) for m, g in self.granted["Ukraina"].items()}}
        self.dismissed = {"Ukraina": {m: round(g * 0.03) for m, g in self.granted["Ukraina"].items()}}
        for name in OTHER_CITIZENSHIPS:
            self.decide_others(name, base, rng)
        for name in OTHER_CITIZENSHIPS:
            self.decide_others(name, later, later_rng)
        self.stock = self.calibrated_stock()

    def decide_others(self, name: str, months: range, rng: np.random.Generator) -> None:
        previous = {m: self.applications[name].get(m - 1, 0) for m in months}
        granted = {m: int(rng.binomial(previous[m], 0.65)) for m in months}
        refused = {m: int(rng.binomial(previous[m] - granted[m], 0.7)) for m in months}
        self.granted.setdefault(name, {}).update(granted)
        self.refused.setdefault(name, {}).update(refused)
        self.dismissed.setdefault(name, {}).update({m: previous[m] - granted[m] - refused[m] for m in months})

    def calibrated_grants(self) -> dict[int, int]:
        """Grants follow applications with a processing lag, scaled per period to the published totals."""
        applications = self.applications["Ukraina"]
        decided = {m: sum(w * applications.get(m - lag, 0) for lag, w in enumerate(DECISION_LAG))
                   for m in range(START, self.end + 1)}
        granted: dict[int, float] = {}
        factor = 1.0
        for (y0, m0), (y1, m1), target in GRANTED_TARGETS:
            period = range(month_index(y0, m0), month_index(y1, m1) + 1)
            factor = target / sum(decided[m] for m in period)
            for m in period:
                granted[m] = decided[m] * factor
        for m in range(START, self.end + 1):
            granted.setdefault(m, decided[m] * factor)
        return integer_series(granted)

    def calibrated_stock(self) -> dict[int, int]:
        """Valid permits at the end of each month: grants in, departures out at a calibrated monthly rate."""
        granted = self.granted["Ukraina"]
        rates: dict[int, float] = {}
        first = START
        for (year, month), target in STOCK_TARGETS:
            last = month_index(year, month)
            rate = bisect(lambda r: self.simulate_stock(granted, rates | {m: r for m in range(first, last + 1)})[last] - target)
            rates.update({m: rate for m in range(first, last + 1)})
            first = last + 1
        rates.update({m: LATE_DEPARTURE_RATE for m in range(first, self.end + 1)})
        return {m: round(v) for m, v in self.simulate_stock(granted, rates).items()}

    @staticmethod
    def simulate_stock(granted: dict[int, int], rates: dict[int, float]) -> dict[int, float]:
        stock, level = {}, 0.0
        for m in sorted(granted):
            level = level * (1.0 - rates.get(m, 0.0)) + granted[m]
            stock[m] = level
        return stock


def bisect(f, low: float = 0.0, high: float = 0.2) -> float:
    """Root of a decreasing function on [low, high]."""
    for _ in range(60):
        mid = (low + high) / 2
        if f(mid) > 0:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def integer_series(values: dict[int, float]) -> dict[int, int]:
    """Round a series so that its running total stays as close as possible to the exact one."""
    result, carried = {}, 0.0
    for key in sorted(values):
        carried += values[key]
        result[key] = round(carried) - sum(result.values())
    return result


def largest_remainder(total: int, shares: list[float]) -> list[int]:
    """Integers proportional to `shares` that add up exactly to `total`."""
    raw = np.array(shares, dtype=float) / sum(shares) * total
    floors = np.floor(raw).astype(int)
    order = np.argsort(-(raw - floors), kind="stable")
    for i in order[: total - floors.sum()]:
        floors[i] += 1
    return [int(x) for x in floors]


class VintageWriter:
    """Writes each retrieval date's folder as UDI's tables looked on that date."""

    def __init__(self, model: UdiModel, rng: np.random.Generator):
        self.model = model
        self.rng = rng
        self.revision_noise: dict[tuple[int, int], float] = {}

    def vintage(self, final: int, month: int, retrieved: int) -> int:
        """What the month looked like when retrieved: the last few months are still being registered."""
        age = retrieved - month
        if age >= 5 or final == 0:
            return final
        key = (month, retrieved)
        if key not in self.revision_noise:
            self.revision_noise[key] = float(self.rng.uniform(0.5, 1.5))
        shortfall = {1: 0.03, 2: 0.012, 3: 0.005, 4: 0.002}[age] * self.revision_noise[key]
        return int(round(final * (1.0 - shortfall)))

    def write_all(self, udi_dir: Path, last: dt.date) -> list[str]:
        folders = []
        for date in snapshot_dates(last):
            folder = udi_dir / date.isoformat()
            folder.mkdir(parents=True, exist_ok=True)
            retrieved = month_index(date.year, date.month)
            separator = "\u00a0" if date >= dt.date(2024, 1, 1) else " "
            years = [date.year - 1, date.year] if date.month == 1 else [date.year]
            for year in years:
                final_file = year < date.year
                self.write_applications(folder / f"soknader_{year}.csv", year, retrieved, final_file, separator)
                self.write_decisions(folder / f"vedtak_{year}.csv", year, retrieved, final_file, separator)
            self.write_valid_permits(folder / f"gyldige_{date.isoformat()}.csv", date, separator)
            folders.append(date.isoformat())
        return folders

    def published_months(self, year: int, retrieved: int, final_file: bool) -> list[int]:
        months = [month_index(year, m) for m in range(1, 13)]
        return months if final_file else [m for m in months if m < retrieved]

    def value(self, series: dict[int, int], month: int, retrieved: int, final_file: bool) -> int:
        return series[month] if final_file else self.vintage(series[month], month, retrieved)

    def write_applications(self, path: Path, year: int, retrieved: int, final_file: bool, sep: str) -> None:
        published = self.published_months(year, retrieved, final_file)
        rows, totals = [], {m: 0 for m in published}
        for name, series in self.model.applications.items():
            values = {m: self.value(series, m, retrieved, final_file) for m in published}
            for m in published:
                totals[m] += values[m]
            rows.append(self.application_row(name, year, values, suppress=name != "Ukraina", sep=sep))
        rows.append(self.application_row("Totalt", year, totals, suppress=False, sep=sep))
        write_csv(path, ["Statsborgerskap", *MONTH_LABELS, "Total"], rows)

    @staticmethod
    def application_row(name: str, year: int, values: dict[int, int], suppress: bool, sep: str) -> list[str]:
        cells = []
        for m in range(1, 13):
            index = month_index(year, m)
            cells.append(render(values[index], suppress, sep) if index in values else "")
        total = render(sum(values.values()), suppress, sep) if values else ""
        return [name, *cells, total]

    def write_decisions(self, path: Path, year: int, retrieved: int, final_file: bool, sep: str) -> None:
        published = self.published_months(year, retrieved, final_file)
        rows = []
        for name in self.model.applications:
            for m in published:
                measures = [self.model.granted[name], self.model.refused[name], self.model.dismissed[name]]
                values = [self.value(series, m, retrieved, final_file) for series in measures]
                rows.append([name, MONTH_LABELS[month_of(m)[1] - 1], *(render(v, True, sep) for v in values)])
        write_csv(path, ["Statsborgerskap", "Måned", "Innvilget", "Avslag", "Henlagt"], rows)

    def write_valid_permits(self, path: Path, date: dt.date, sep: str) -> None:
        stock = self.model.stock[month_index(date.year, date.month) - 1]
        names = [c.name for c in counties_valid_on(date.isoformat())]
        cells, shares = [], []
        for county in names:
            for sex in ("Kvinner", "Menn"):
                for age in AGE_GROUPS:
                    female = FEMALE_SHARE_BY_AGE[age]
                    share = COUNTY_SHARES[county] * AGE_SHARES[age] * (female if sex == "Kvinner" else 1 - female)
                    shares.append(share * float(self.rng.uniform(0.95, 1.05)))
                    cells.append((county, sex, age))
        counts = largest_remainder(stock, shares)
        rows = [[county, sex, age, render(n, True, sep)] for (county, sex, age), n in zip(cells, counts)]
        write_csv(path, ["Fylke", "Kjønn", "Aldersgruppe", "Antall"], rows)


def render(value: int, suppress: bool, sep: str) -> str:
    """UDI number style: thousands separated by a (no-break) space; 1-4 shown as a dash where suppressed."""
    if suppress and 0 < value < 5:
        return "-"
    return f"{value:,}".replace(",", sep)


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_udi(udi_dir: Path, seed: int, first: dt.date | None = None,
              cover_until: dt.date | None = None) -> dict[str, object]:
    """Write the snapshot folders under `udi_dir` and return a short summary.

    `cover_until` (the last survey wave's field end) extends the snapshots past 2025-10-05 when a wave
    opens later; `first` drops the folders before that date (a new installation: a history that starts
    late). Both leave the figures of every folder that is written as they are in the full history.
    """
    last = last_snapshot(cover_until)
    end = month_index(last.year, last.month) - 1
    model = UdiModel(np.random.default_rng([seed, 2]), end=max(end, END), later_rng=np.random.default_rng([seed, 9]))
    folders = VintageWriter(model, np.random.default_rng([seed, 3])).write_all(udi_dir, last)
    if first is not None:
        dropped = [name for name in folders if name < first.isoformat()]
        if len(dropped) == len(folders):
            raise ValueError(f"udi_from {first} is after the last UDI snapshot {folders[-1]}")
        for name in dropped:
            shutil.rmtree(udi_dir / name)
        folders = [name for name in folders if name not in dropped]
    granted = model.granted["Ukraina"]
    return {
        "snapshots": len(folders),
        "first_snapshot": folders[0],
        "last_snapshot": folders[-1],
        "granted_to_2023_12": sum(v for m, v in granted.items() if m <= month_index(2023, 12)),
        "granted_to_2024_12": sum(v for m, v in granted.items() if m <= month_index(2024, 12)),
        "valid_2025_01_05": model.stock[month_index(2024, 12)],
        "valid_2025_08_05": model.stock[month_index(2025, 7)],
    }
