{#- Cell id of the base of a group of shares (an origin's persons, a wave's answers on a scale): a
    count a reader learns from any published share of the group (n / share). `parts` are SQL
    expressions. release_suppression_ctes suppresses every count of the group once its base is. -#}
{% macro release_share_base_id(parts) -%}
    concat_ws('|', 'share_base', {{ parts | join(', ') }})
{%- endmacro %}
