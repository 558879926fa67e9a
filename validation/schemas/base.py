"""The shared base of every raw-layout schema."""
from __future__ import annotations

import pandera.pandas as pa

# Importing registers the custom checks before any model uses them as Field(...) options.
from validation.schemas import checks  # noqa: F401


class RawTextModel(pa.DataFrameModel):
    """Raw rows as text, one column per source column.

    `strict`: exactly the file's columns (after the e-mail column became `email_hash`/`email_bloom`), so
    a renamed or extra column is caught. `coerce`: values are coerced to text; the typed checks
    (integers, timestamps, dates) parse the text themselves and report the cell that does not parse.
    """

    class Config:
        strict = True
        coerce = True
