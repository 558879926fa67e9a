{#- Pairwise linkage quality per wave pair and method: estimated from the model on every refresh
    (linkage.quality_estimates, see linkage/estimate.py), and scored against the synthetic truth when
    there is one (NULL truth columns for real data). A pair is two loaded responses of different waves;
    it is predicted when linkage gave both the same person and true when the truth did. Per wave pair:
    method `all`, and one row per link method of the later response, whose recall is the share of all
    true pairs that method found. -#}

with

links as (
    select wave_id, wave_number, response_id, person_id, link_method
    from {{ source('linkage', 'response_persons') }}
),

truth as (
    -- distinct: a raw row delivered twice is listed twice in the truth, but is one loaded response
    select distinct links.wave_id, links.wave_number, links.response_id, truth_responses.person_id
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
),

has_truth as (
    select exists (select 1 from truth) as has_truth
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

estimates as (
    select * from {{ source('linkage', 'quality_estimates') }}
),

wave_pairs as (
    select wave_from, wave_to from true_pairs
    union
    select wave_from, wave_to from predicted_pairs
    union
    select wave_from, wave_to from estimates
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
),

truth_scored as (
    select
        counted.* exclude (true_pairs, true_positive_pairs),
        case when has_truth then true_pairs end as true_pairs,
        case when has_truth then true_positive_pairs end as true_positive_pairs
    from counted
    cross join has_truth
)

select
    cast(s.wave_from as varchar) as wave_from,
    cast(s.wave_to as varchar) as wave_to,
    cast(s.method as varchar) as method,
    cast(s.true_pairs as bigint) as true_pairs,
    cast(s.predicted_pairs as bigint) as predicted_pairs,
    cast(s.true_positive_pairs as bigint) as true_positive_pairs,
    cast(case when s.predicted_pairs > 0 then s.true_positive_pairs / s.predicted_pairs end as double) as precision,
    cast(case when s.true_pairs > 0 then s.true_positive_pairs / s.true_pairs end as double) as recall,
    cast(case when s.true_positive_pairs > 0
        then 2 * s.true_positive_pairs / (s.predicted_pairs + s.true_pairs) end as double) as f1,
    cast(e.expected_false_pairs as double) as estimated_false_pairs,
    cast(e.expected_missed_pairs as double) as estimated_missed_pairs,
    cast(e.estimated_precision as double) as estimated_precision,
    cast(e.estimated_precision_low as double) as estimated_precision_low,
    cast(e.estimated_precision_high as double) as estimated_precision_high,
    cast(e.estimated_recall as double) as estimated_recall,
    cast(e.estimated_recall_low as double) as estimated_recall_low,
    cast(e.estimated_recall_high as double) as estimated_recall_high,
    cast(e.estimated_f1 as double) as estimated_f1,
    cast(e.estimated_f1_low as double) as estimated_f1_low,
    cast(e.estimated_f1_high as double) as estimated_f1_high,
    cast(e.estimated_precision_model_only as double) as estimated_precision_without_review,
    cast(coalesce(e.reviewed_pairs, 0) as bigint) as reviewed_pairs
from truth_scored as s
left join estimates as e using (wave_from, wave_to, method)
