{#- Ukrainian citizens per month on the latest vintage: applications, grants, grants to date, and the
    stock of valid permits at the start of the next month (the first snapshot dated in that month), so
    granted_cumulative - valid_stock approximates how many have left. Grants to date need the whole flow
    history since the invasion: for a month the data root's history does not cover from March 2022 on
    (e.g. the first snapshot folder is from late 2024) granted_cumulative is NULL, not a partial sum. -#}

{%- set history_start = "date '2022-03-01'" %}

with

flow_vintages as (
    select * from {{ ref('int_udi__ukrainian_flow_vintages') }}
),

valid_permits as (
    select * from {{ ref('stg_udi__valid_permits') }}
),

latest_flows as (
    select
        month,
        max(value) filter (where measure = 'applications') as applications,
        max(value) filter (where measure = 'granted') as granted,
        count(*) filter (where measure = 'granted') > 0 as has_granted_figure,
        max(vintage_date) as vintage_date
    from flow_vintages
    where is_latest_vintage
    group by month
),

stock_by_snapshot as (
    select
        snapshot_date,
        sum(valid_permits) as valid_stock,
        count(*) filter (where is_suppressed) as valid_stock_suppressed_cells
    from valid_permits
    group by snapshot_date
),

-- A snapshot taken in month M+1 gives the stock at the end of month M; the earliest such snapshot wins.
stock_at_month_end as (
    select
        cast(date_trunc('month', snapshot_date) - interval 1 month as date) as month,
        arg_min(valid_stock, snapshot_date) as valid_stock,
        arg_min(valid_stock_suppressed_cells, snapshot_date) as valid_stock_suppressed_cells,
        min(snapshot_date) as stock_snapshot_date
    from stock_by_snapshot
    group by 1
),

-- Months from March 2022 up to each month that have a grant figure (a suppressed one counts as 0).
history as (
    select
        *,
        count(*) filter (where has_granted_figure and month >= {{ history_start }})
            over (order by month rows unbounded preceding) as months_with_grants_since_start
    from latest_flows
),

cumulated as (
    select
        history.month,
        history.applications,
        history.granted,
        case
            when history.month >= {{ history_start }}
                and history.months_with_grants_since_start = date_diff('month', {{ history_start }}, history.month) + 1
                then sum(coalesce(history.granted, 0)) filter (where history.month >= {{ history_start }})
                    over (order by history.month rows unbounded preceding)
        end as granted_cumulative,
        stock_at_month_end.valid_stock,
        stock_at_month_end.valid_stock_suppressed_cells,
        stock_at_month_end.stock_snapshot_date,
        history.vintage_date
    from history
    left join stock_at_month_end
        on stock_at_month_end.month = history.month
),

final as (
    select
        cast(month as date) as month,
        cast(applications as integer) as applications,
        cast(granted as integer) as granted,
        cast(granted_cumulative as bigint) as granted_cumulative,
        cast(valid_stock as bigint) as valid_stock,
        cast(granted_cumulative - valid_stock as bigint) as implied_departures_cumulative,
        cast(vintage_date as date) as vintage_date,
        cast(stock_snapshot_date as date) as stock_snapshot_date,
        cast(valid_stock_suppressed_cells as integer) as valid_stock_suppressed_cells
    from cumulated
)

select * from final
