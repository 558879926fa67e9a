{#- A float sum that does not depend on the order rows arrive in: the values are added in ascending order.
    A parallel sum (`sum`, even Kahan's `fsum`) adds in whatever order the threads deliver, so two builds of
    the same data could differ in the last digit of a weighted share. An aggregate, or with `window` (the
    name of a WINDOW clause) a window aggregate; NULLs are ignored and an all-NULL group gives NULL. -#}
{% macro ordered_sum(expression, window=none) -%}
    list_sum(list({{ expression }} order by {{ expression }}){% if window %} over {{ window }}{% endif %})
{%- endmacro %}
