"""OR-Tools search parameters in one place, so the field solver and the VRPTW front-end tune alike.

Two ways to search, both measured on this machine (bench/dispatch/README.md):
- warm-started local search with a metaheuristic (guided local search or plain greedy descent):
  what the field solver does, because it starts from the greedy plan (or the committed one) and
  must keep a bound on moved jobs that only the CP check knows;
- iterated local search (ILS): ruin part of the solution (SISR), recreate it by cheapest insertion,
  descend to a local optimum, accept by simulated annealing. On Solomon at 10 s it took the mean
  gap to the best-known distances from 4.25 % (guided local search) to 0.91 %.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ortools.constraint_solver import routing_enums_pb2
from ortools.util.optional_boolean_pb2 import BOOL_FALSE, BOOL_TRUE

_FIRST = routing_enums_pb2.FirstSolutionStrategy
_META = routing_enums_pb2.LocalSearchMetaheuristic

# Operators that reinsert unperformed visits by cheapest insertion. They earn their keep when
# visits are optional (the field model's drop penalties) and cost most of each ILS descent when
# every visit is mandatory (pure VRPTW), where they can never apply.
_INSERTION_LNS = (
    "use_global_cheapest_insertion_path_lns",
    "use_local_cheapest_insertion_path_lns",
    "use_relocate_path_global_cheapest_insertion_insert_unperformed",
    "use_global_cheapest_insertion_visit_types_lns",
    "use_local_cheapest_insertion_visit_types_lns",
)
# Expensive within-route operators: in ILS the ruin-and-recreate step already reorders routes,
# and skipping these buys more iterations (measured on Solomon R/RC, see the README).
_HEAVY = ("use_lin_kernighan", "use_relocate_expensive_chain")
_EXTRA_LNS = (
    "use_path_lns",
    "use_inactive_lns",
    "use_cross_exchange",
    "use_relocate_neighbors",
    "use_global_cheapest_insertion_close_nodes_lns",
    "use_local_cheapest_insertion_close_nodes_lns",
)


@dataclass(frozen=True, slots=True)
class SearchProfile:
    first_solution: str = "PARALLEL_CHEAPEST_INSERTION"
    # The metaheuristic of warm-started searches; ignored by ILS, which always descends greedily.
    metaheuristic: str = "GUIDED_LOCAL_SEARCH"
    gls_lambda: float = 0.1
    # Neighbourhood pruning: each LS operator looks at this share of the nearest nodes
    # (at least `min_neighbors`); 1.0 = all. Essential past a few hundred nodes.
    neighbors_ratio: float = 1.0
    min_neighbors: int = 1
    extra_lns: bool = False
    insertion_lns: bool = True
    heavy_operators: bool = True
    iterated_local_search: bool = False
    # Ruin-and-recreate (SISR, Christiaens & Vanden Berghe 2020), used by ILS: strings of at most
    # `sisr_max_sequence` visits, `sisr_avg_removed` visits removed on average. Tuned on Solomon
    # R/RC (bench/dispatch/README.md): the paper's 10/10 removes too little for 100 customers.
    sisr_max_sequence: int = 15
    sisr_avg_removed: int = 20
    # Simulated-annealing temperatures derived from the mean arc cost (OR-Tools' automatic mode);
    # fixed temperatures were no better on Solomon and would need rescaling per cost unit.
    sa_automatic_temperatures: bool = True
    full_propagation: bool = False
    # Check each accepted neighbour with the CP solver too (needed for constraints the routing
    # filters do not know, e.g. the bound on moved jobs); off is much faster.
    use_cp: bool = True
    lns_time_limit: float = 0.1  # also bounds restoring a warm start: raise it for big models
    # Price moves with earliest-start cumuls instead of a per-route LP/MIP. Exact for our costs
    # (lateness is minimised by starting early; balance lives on the slack-free work dimension).
    disable_scheduling: bool = True
    log: bool = False


def apply_profile(p: Any, profile: SearchProfile, time_limit: float) -> None:
    """Fill a RoutingSearchParameters proto (untyped: ortools ships no stubs) from the profile."""
    p.first_solution_strategy = _FIRST.Value.Value(profile.first_solution)
    # In ILS the metaheuristic is the improvement step after each perturbation: guided local
    # search never reaches a local optimum, so no perturbation would ever happen.
    meta = "GREEDY_DESCENT" if profile.iterated_local_search else profile.metaheuristic
    p.local_search_metaheuristic = _META.Value.Value(meta)
    p.guided_local_search_lambda_coefficient = profile.gls_lambda
    p.ls_operator_neighbors_ratio = profile.neighbors_ratio
    p.ls_operator_min_neighbors = profile.min_neighbors
    p.use_full_propagation = profile.full_propagation
    p.use_iterated_local_search = profile.iterated_local_search
    p.log_search = profile.log
    p.disable_scheduling_beware_this_may_degrade_performance = profile.disable_scheduling
    p.use_cp = BOOL_TRUE if profile.use_cp else BOOL_FALSE
    p.lns_time_limit.seconds = int(profile.lns_time_limit)
    p.lns_time_limit.nanos = int((profile.lns_time_limit % 1) * 1e9)
    ops = p.local_search_operators
    if profile.extra_lns:
        _switch(ops, _EXTRA_LNS, on=True)
    _switch(ops, _INSERTION_LNS, on=profile.insertion_lns)
    _switch(ops, _HEAVY, on=profile.heavy_operators)
    if profile.iterated_local_search:
        _ruin_and_recreate(p.iterated_local_search_parameters, profile)
    seconds = int(time_limit)
    p.time_limit.seconds = seconds
    p.time_limit.nanos = int((time_limit - seconds) * 1e9)


def _switch(ops: Any, names: tuple[str, ...], *, on: bool) -> None:
    for name in names:
        setattr(ops, name, BOOL_TRUE if on else BOOL_FALSE)


def _ruin_and_recreate(ils: Any, profile: SearchProfile) -> None:
    """SISR ruin + local cheapest insertion recreate, descent, simulated-annealing acceptance."""
    rr = ils.ruin_recreate_parameters
    del rr.ruin_strategies[:]
    sisr = rr.ruin_strategies.add().sisr
    sisr.max_removed_sequence_size = profile.sisr_max_sequence
    sisr.avg_num_removed_visits = profile.sisr_avg_removed
    sisr.bypass_factor = 0.01
    ils.improve_perturbed_solution = True
    sa = ils.reference_solution_acceptance_strategy.simulated_annealing
    sa.automatic_temperatures = profile.sa_automatic_temperatures
