"""Static report and codebook pages rendered from the published warehouse (plotly, embedded once, offline)."""
