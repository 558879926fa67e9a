{#- Pairwise linkage quality against the synthetic truth (empty for real data, which has no truth).
    A pair is two loaded responses of different waves; it is predicted when linkage gave both the same
    person and true when the truth did. Per wave pair: method `all`, and one row per link method of
    the later response, whose recall is the share of all true pairs that method found. -#}

with

links as (
    select wave_id, wave_number, response_id, person_id, link_method
    from {{ source('linkage', 'response_persons') }}
),

truth as (
    select links.wave_id, links.wave_number, links.response_id, truth_responses.person_id
    from {{ source('linkage', 'truth_responses') }} as truth_responses
    inner join links
        on links.wave_id = truth_responses.wave_id
        and links.response_id = truth_responses.response_id
),

predicted_pairs as (
    select earlier.wave_id as wave_from, later.wave_id as wave_to,
           earlier.response_id as response_from, later.response_id as response_to, later.link_method
    from links as earlier
    inner join links as later
        on later.person_id = earlier.person_id and later.wave_number > earlier.wave_number
    where exists (select 1 from truth)
),

true_pairs as (
    select earlier.wave_id as wave_from, later.wave_id as wave_to,
           earlier.response_id as response_from, later.response_id as response_to
    from truth as earlier
    inner join truth as later
        on later.person_id = earlier.person_id and later.wave_number > earlier.wave_number
),

scored as (
    select predicted_pairs.*, true_pairs.response_to is not null as is_true
    from predicted_pairs
    left join true_pairs using (wave_from, wave_to, response_from, response_to)
),

true_counts as (
    select wave_from, wave_to, count(*) as true_pairs from true_pairs group by wave_from, wave_to
),

methods as (
    select 'all' as method union all select 'token' union all select 'email_exact' union all select 'probabilistic'
),

predicted_counts as (
    select
        wave_from, wave_to, methods.method,
        count(scored.response_to) as predicted_pairs,
        count(scored.response_to) filter (where scored.is_true) as true_positive_pairs
    from methods
    left join scored on methods.method in ('all', scored.link_method)
    where scored.response_to is not null
    group by wave_from, wave_to, methods.method
),

wave_pairs as (
    select wave_from, wave_to from true_pairs
    union
    select wave_from, wave_to from predicted_pairs
),

grid as (
    select wave_pairs.wave_from, wave_pairs.wave_to, methods.method, coalesce(true_counts.true_pairs, 0) as true_pairs
    from wave_pairs
    cross join methods
    left join true_counts using (wave_from, wave_to)
),

counted as (
    select
        grid.wave_from,
        grid.wave_to,
        grid.method,
        grid.true_pairs,
        coalesce(predicted_counts.predicted_pairs, 0) as predicted_pairs,
        coalesce(predicted_counts.true_positive_pairs, 0) as true_positive_pairs
    from grid
    left join predicted_counts using (wave_from, wave_to, method)
)

select
    cast(wave_from as varchar) as wave_from,
    cast(wave_to as varchar) as wave_to,
    cast(method as varchar) as method,
    cast(true_pairs as bigint) as true_pairs,
    cast(predicted_pairs as bigint) as predicted_pairs,
    cast(true_positive_pairs as bigint) as true_positive_pairs,
    cast(case when predicted_pairs > 0 then true_positive_pairs / predicted_pairs end as double) as precision,
    cast(case when true_pairs > 0 then true_positive_pairs / true_pairs end as double) as recall,
    cast(case when true_positive_pairs > 0
        then 2 * true_positive_pairs / (predicted_pairs + true_pairs) end as double) as f1
from counted
