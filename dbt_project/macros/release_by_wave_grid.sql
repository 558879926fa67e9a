{#- marts.aspiration_by_wave as a full grid (the columns the release publishes): every wave of the
    mart x every answer of the aspiration_scales seed on both scales (and of the mart), zeros included, so that a
    suppressed count may be 0 (the mart leaves zero counts out). A zero's share is 0 where the wave
    has answers on that scale (its weighted share where the wave has any). -#}
{% macro release_by_wave_grid(by_wave) -%}
    with
    mart as (
        select wave_id, scale, aspiration, n, share, weighted_share from {{ by_wave }}
    ),
    answers as (
        select distinct 'fine' as scale, aspiration from {{ ref('aspiration_scales') }}
        union
        select distinct 'coarse', aspiration_coarse from {{ ref('aspiration_scales') }}
        union
        select distinct scale, aspiration from mart
    ),
    grid as (
        select waves.wave_id, answers.scale, answers.aspiration
        from (select distinct wave_id from mart) as waves
        cross join answers
    ),
    wave_scales as (
        select wave_id, scale, count(weighted_share) > 0 as is_weighted from mart group by all
    )
    select
        grid.wave_id, grid.scale, grid.aspiration,
        coalesce(mart.n, 0) as n,
        case when mart.n is not null then mart.share when wave_scales.scale is not null then 0.0 end as share,
        case when mart.n is not null then mart.weighted_share when wave_scales.is_weighted then 0.0 end as weighted_share
    from grid
    left join mart using (wave_id, scale, aspiration)
    left join wave_scales using (wave_id, scale)
{%- endmacro %}
