{#- One bound of the 95 % Wilson score interval of a proportion `p` observed on `n` (a count, or Kish's
    effective sample size for a weighted proportion); `side` is 'lower' or 'upper'. Clamped to [0, 1]
    (rounding at p = 0 or 1); NULL when n is not positive. panel_report.warehouse.wilson_interval is the same
    formula in Python. -#}
{% macro wilson_interval_bound(p, n, side) %}
    {%- set z = 1.959963984540054 -%}
    case when ({{ n }}) > 0 then
        greatest(0.0, least(1.0,
            (({{ p }}) + {{ z }} * {{ z }} / (2 * ({{ n }}))
             {{ '-' if side == 'lower' else '+' }} {{ z }} * sqrt(({{ p }}) * (1 - ({{ p }})) / ({{ n }})
                                     + {{ z }} * {{ z }} / (4 * ({{ n }}) * ({{ n }}))))
            / (1 + {{ z }} * {{ z }} / ({{ n }}))
        ))
    end
{%- endmacro %}
