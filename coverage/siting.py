"""Suggested sites for new service points: maximal covering, target coverage, capacity-aware.

Optimisation is kept apart from geometry (as in spopt): a :class:`CoverageProblem` is built
from a sparse candidates × demand coverage matrix and a demand vector, and solved by a greedy
heuristic (lazy "CELF" evaluation of marginal gains) or exactly as a MILP with HiGHS
(:mod:`highspy`). :func:`suggest_sites` is the GeoDataFrame adapter: it builds the matrix from
an analysis result with bounded walking searches and returns a ranked site table.

Three models are offered:

``mclp``
    Choose ``p`` sites maximising newly covered demand (Church & ReVelle 1974).
``target``
    The fewest sites that lift coverage of the target group over the whole area to a rate
    (e.g. 0.9); when no set of candidates can reach it, the best achievable with all useful
    candidates and the shortfall in residents.
``capacity``
    Childcare with places: each site serves at most its capacity (托位); demand is the under-3
    residents times the enrolment rate; residents are assigned to sites within the threshold.

Demand (``demand=``): population ``cells``, reached at the street nearest each cell's
centre, or residential ``compounds`` (小区) reached through their gates: a compound is covered
by a site when the walk from the site to one of its gates plus the walk from the compound's
interior to that gate (straight line × :data:`care15.gates.DETOUR_FACTOR`) is within the
threshold (:func:`compound_cover`), so a site by a compound's wall but far from its gates does
not serve it. Compounds already served by existing facilities through their gates are not
demand.

Greedy results carry the bound they are measured against: for MCLP the (1 − 1/e) guarantee
holds against the optimum, and the reported gap is against the LP relaxation's bound solved by
HiGHS when ``exact`` is not requested.
"""

from __future__ import annotations

import contextlib
import heapq
import logging
import math
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

from . import standards as std
from ._errors import InputError
from .candidates import clean_candidates, generated_candidates

if TYPE_CHECKING:
    from .analysis import CoverageResult
    from .network import Snapped, WalkNetwork
    from .scenario import Scenario

__all__ = [
    "CoverageProblem",
    "SiteSuggestion",
    "SolveResult",
    "Unreachable",
    "compound_cover",
    "compound_demand",
    "coverage_problem",
    "lp_bound",
    "solve_exact",
    "solve_greedy",
    "suggest_sites",
    "unreachable_residents",
]

log = logging.getLogger(__name__)

MODELS = ("mclp", "target", "capacity")
#: What a site must reach: population ``cells`` (their snapped centres) or residential
#: ``compounds`` (小区) through their gates (:mod:`care15.gates`).
DEMANDS = ("cells", "compounds")
#: Default size of a new childcare point in places (standard ``childcare_new_site_places``:
#: the top of seed 002's smallest 配建 band, ≤30 托位); scenarios set
#: ``analysis.new_site_places``.
DEFAULT_NEW_SITE_PLACES = float(std.get("childcare_new_site_places"))


@dataclass(frozen=True)
class CoverageProblem:
    """A location problem on a coverage matrix.

    Attributes
    ----------
    cover
        Boolean CSR matrix, candidates × demand points: candidate j can serve demand i.
    demand
        Demand weight of each point (residents not yet covered, or places needed).
    capacity
        Capacity of each candidate (only used by the ``capacity`` model).
    already_covered
        Demand already covered by existing facilities (for target rates).
    total
        All demand of the target group (covered or not), the denominator of target rates.
    """

    cover: sp.csr_matrix
    demand: np.ndarray
    capacity: np.ndarray | None = None
    already_covered: float = 0.0
    total: float = 0.0

    @property
    def n_candidates(self) -> int:
        """Number of candidate sites.

        Returns
        -------
        int
            Rows of :attr:`cover`.
        """
        return int(self.cover.shape[0])


@dataclass
class SolveResult:
    """Chosen sites in the order they add coverage, and what the solver proved.

    Attributes
    ----------
    chosen
        Candidate rows (of :attr:`CoverageProblem.cover`) in the order they add coverage.
    gains
        Demand each chosen site adds, in the same order.
    objective
        Covered demand (``mclp``, ``capacity``) or number of sites (``target`` solved exactly).
    bound
        Upper bound on the objective proved by the solver (LP relaxation or MIP dual bound),
        None for a plain greedy solution.
    gap
        Relative gap between ``objective`` and ``bound`` (None when unknown).
    solver
        ``"greedy"`` or ``"highs"``.
    status
        The solver's status (``"heuristic"``, ``"Optimal"``, ``"Time limit reached"`` …).
    message
        One line about the solve, for logs.
    assignment
        Capacity model: candidates × demand matrix of the demand each site serves.
    """

    chosen: list[int]
    gains: list[float]
    objective: float
    bound: float | None
    gap: float | None
    solver: str
    status: str
    message: str = ""
    assignment: sp.csr_matrix | None = None


def coverage_problem(cover: sp.spmatrix, demand: np.ndarray, *, capacity: np.ndarray | None = None,
                     already_covered: float = 0.0, total: float | None = None) -> CoverageProblem:
    """Validate and build a :class:`CoverageProblem` (only demand > 0 matters).

    Parameters
    ----------
    cover
        Candidates × demand points: nonzero where candidate ``j`` can serve point ``i``.
    demand
        Demand weight of each point (NaN counts as 0).
    capacity
        Capacity of each candidate, for the ``capacity`` model.
    already_covered
        Demand of the target group already covered by existing facilities.
    total
        All demand of the target group; default ``already_covered + demand.sum()``.

    Returns
    -------
    CoverageProblem
        The problem, with ``cover`` as a boolean CSR matrix.

    Raises
    ------
    InputError
        When ``cover`` and ``demand`` disagree in size, or a demand is negative.

    Examples
    --------
    >>> import numpy as np
    >>> from care15.siting import coverage_problem, solve_greedy
    >>> cover = np.array([[1, 1, 0], [0, 1, 1], [0, 0, 1]])
    >>> P = coverage_problem(cover, np.array([10.0, 5.0, 20.0]))
    >>> sol = solve_greedy(P, "mclp", p=1)
    >>> sol.chosen, sol.objective
    ([1], 25.0)
    """
    A = sp.csr_matrix(cover, dtype=bool)
    d = np.nan_to_num(np.asarray(demand, dtype=float), nan=0.0)
    if A.shape[1] != len(d):
        raise InputError(f"coverage matrix has {A.shape[1]} demand columns but demand has "
                         f"{len(d)} values")
    if (d < 0).any():
        raise InputError("demand must be >= 0")
    return CoverageProblem(A, d, None if capacity is None else np.asarray(capacity, float),
                           float(already_covered),
                           float(total if total is not None else already_covered + d.sum()))


# --------------------------------------------------------------------------------------------
# greedy
# --------------------------------------------------------------------------------------------


def _greedy_cover(P: CoverageProblem, p: int | None, need: float | None) -> SolveResult:
    A, w = P.cover, P.demand
    covered = np.zeros(A.shape[1], dtype=bool)
    gains0 = A @ w
    heap = [(-g, j, 0) for j, g in enumerate(gains0) if g > 0]
    heapq.heapify(heap)
    chosen: list[int] = []
    gains: list[float] = []
    total = 0.0
    rnd = 0
    while heap and (p is None or len(chosen) < p) and (need is None or total < need - 1e-9):
        _, j, stamp = heapq.heappop(heap)
        if stamp == rnd:
            cols = A.indices[A.indptr[j]:A.indptr[j + 1]]
            new = cols[~covered[cols]]
            g = float(w[new].sum())
            if g <= 0:
                continue
            covered[new] = True
            chosen.append(j)
            gains.append(g)
            total += g
            rnd += 1
        else:  # stale: recompute this candidate's marginal gain (lazy evaluation)
            cols = A.indices[A.indptr[j]:A.indptr[j + 1]]
            g = float(w[cols[~covered[cols]]].sum())
            if g > 0:
                heapq.heappush(heap, (-g, j, rnd))
    return SolveResult(chosen, gains, total, None, None, "greedy", "heuristic")


def _greedy_capacity(P: CoverageProblem, p: int | None, need: float | None) -> SolveResult:
    A = P.cover.tocsr()
    rem = P.demand.copy()
    cap = P.capacity if P.capacity is not None else np.full(A.shape[0], DEFAULT_NEW_SITE_PLACES)
    chosen: list[int] = []
    gains: list[float] = []
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    total = 0.0
    avail = np.ones(A.shape[0], dtype=bool)
    while (p is None or len(chosen) < p) and (need is None or total < need - 1e-9):
        reach_dem = A @ rem
        g = np.where(avail, np.minimum(cap, reach_dem), 0.0)
        j = int(np.argmax(g))
        if g[j] <= 1e-12:
            break
        # serve the demand points of j, largest first, up to its capacity
        idx = A.indices[A.indptr[j]:A.indptr[j + 1]]
        idx = idx[np.argsort(-rem[idx], kind="stable")]
        left = cap[j]
        for i in idx:
            if left <= 0:
                break
            take = min(left, rem[i])
            if take > 0:
                rem[i] -= take
                left -= take
                rows.append(j)
                cols.append(i)
                vals.append(take)
        avail[j] = False
        chosen.append(j)
        gains.append(float(g[j]))
        total += float(g[j])
    asg = sp.csr_matrix((vals, (rows, cols)), shape=A.shape)
    return SolveResult(chosen, gains, total, None, None, "greedy", "heuristic", assignment=asg)


def solve_greedy(P: CoverageProblem, model: str = "mclp", *, p: int | None = None,
                 target: float | None = None) -> SolveResult:
    """Greedy solution of ``model`` (see the module docstring).

    Parameters
    ----------
    P
        The location problem.
    model
        ``"mclp"``, ``"target"`` or ``"capacity"``.
    p
        Number of sites (``mclp``; ``capacity`` with a fixed number of sites).
    target
        Coverage rate of the target group to reach, in (0, 1] (``target``; ``capacity``
        without ``p``).

    Returns
    -------
    SolveResult
        Sites in the order the greedy picks them, with their gains; no bound.

    Raises
    ------
    ValueError
        For an unknown ``model``.
    InputError
        When the model's ``p`` or ``target`` is missing or out of range.
    """
    _check_model(model, p, target)
    need = None
    if target is not None and model in ("target", "capacity"):
        need = target * P.total - P.already_covered
    if model == "capacity":
        return _greedy_capacity(P, p, need)
    return _greedy_cover(P, p, need)


# --------------------------------------------------------------------------------------------
# exact (HiGHS)
# --------------------------------------------------------------------------------------------


class _HighsMeta(TypedDict):
    objective: float
    bound: float | None
    gap: float | None


@contextlib.contextmanager
def _stdout_fd_silenced() -> Iterator[None]:
    """Send what C code writes to file descriptor 1 to the null device while the block runs.

    HiGHS 1.16 prints its copyright banner from C++ when a ``Highs`` object is made, before
    ``output_flag`` can be set; stdout carries the command's results, so the banner must not
    reach it. Python-level ``sys.stdout`` is flushed first and is left untouched.

    Yields
    ------
    None
        Control, with descriptor 1 pointing at the null device.
    """
    fd = 1  # C's stdout, whatever Python's sys.stdout is (Jupyter, pytest) at the time
    for stream in (sys.stdout, sys.__stdout__):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # a closed stream has nothing to flush
            pass
    try:
        saved = os.dup(fd)
    except OSError:  # no descriptor 1 (a detached daemon): nothing to protect
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), fd)
            try:
                yield
            finally:
                os.dup2(saved, fd)
    finally:
        os.close(saved)


def _highs_solve(c: np.ndarray, lo: np.ndarray, hi: np.ndarray, integrality: np.ndarray,
                 A_rows: sp.csr_matrix, rlo: np.ndarray, rhi: np.ndarray, *, maximize: bool,
                 time_limit_s: float, mip: bool = True,
                 start: np.ndarray | None = None) -> tuple[str, np.ndarray, _HighsMeta]:
    """Solve with HiGHS; ``start`` is a feasible solution handed to it as the first incumbent.

    With a start, a time limit hit before branch and bound finds anything still returns the
    start (the greedy solution) and the gap HiGHS proved against it.
    """
    import highspy

    with _stdout_fd_silenced():  # highspy >= 1.16 prints a banner on construction
        h = highspy.Highs()  # type: ignore[no-untyped-call]  # Highs.__init__ is unannotated
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("mip_rel_gap", 0.0)
    lp = highspy.HighsLp()
    n = len(c)
    lp.num_col_ = n
    lp.num_row_ = A_rows.shape[0]
    lp.col_cost_ = np.asarray(c, float)
    lp.col_lower_ = np.asarray(lo, float)
    lp.col_upper_ = np.asarray(hi, float)
    lp.row_lower_ = np.asarray(rlo, float)
    lp.row_upper_ = np.asarray(rhi, float)
    csc = A_rows.tocsc()
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
    lp.a_matrix_.index_ = csc.indices.astype(np.int32)
    lp.a_matrix_.value_ = csc.data.astype(float)
    lp.a_matrix_.num_col_ = n
    lp.a_matrix_.num_row_ = A_rows.shape[0]
    lp.sense_ = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
    if mip:
        lp.integrality_ = [highspy.HighsVarType.kInteger if k else highspy.HighsVarType.kContinuous
                           for k in integrality]
    h.passModel(lp)
    if start is not None and mip:
        sol = highspy.HighsSolution()
        sol.col_value = np.asarray(start, float).tolist()
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    status = str(h.modelStatusToString(h.getModelStatus()))
    info = h.getInfo()
    x = np.asarray(h.getSolution().col_value)
    if start is not None and (len(x) != n or info.primal_solution_status != 2):
        x = np.asarray(start, float)  # HiGHS found nothing better than (or nothing besides) it
    meta: _HighsMeta = {
        "objective": info.objective_function_value,
        "bound": getattr(info, "mip_dual_bound", None) if mip else info.objective_function_value,
        "gap": getattr(info, "mip_gap", None) if mip else 0.0}
    return status, x, meta


def _useful(P: CoverageProblem) -> tuple[np.ndarray, np.ndarray]:
    """Demand points worth modelling (weight > 0 and coverable) and candidates covering them."""
    A = P.cover
    dem = np.flatnonzero((P.demand > 0) & (np.asarray(A.sum(axis=0)).ravel() > 0))
    cand = np.flatnonzero(np.asarray(A[:, dem].sum(axis=1)).ravel() > 0)
    return cand, dem


def solve_exact(P: CoverageProblem, model: str = "mclp", *, p: int | None = None,
                target: float | None = None, time_limit_s: float = 60.0) -> SolveResult:
    """Solve ``model`` as a MILP with HiGHS; returns the best found and its gap on time-out.

    The greedy solution is handed to HiGHS as the first incumbent, so a time-out still
    returns at least that. Chosen sites are ranked by the coverage each adds.

    Parameters
    ----------
    P
        The location problem.
    model
        ``"mclp"``, ``"target"`` or ``"capacity"``.
    p
        Number of sites (``mclp``; ``capacity`` with a fixed number of sites).
    target
        Coverage rate of the target group to reach, in (0, 1] (``target``; ``capacity``
        without ``p``).
    time_limit_s
        HiGHS time limit in seconds.

    Returns
    -------
    SolveResult
        The sites, HiGHS's status, the proved bound and the relative gap.

    Raises
    ------
    ValueError
        For an unknown ``model``.
    InputError
        When the model's ``p`` or ``target`` is missing or out of range.
    """
    _check_model(model, p, target)
    t0 = time.perf_counter()
    cand, dem = _useful(P)
    nc, nd = len(cand), len(dem)
    if nc == 0:
        return SolveResult([], [], 0.0, 0.0, 0.0, "highs", "nothing to cover")
    B = P.cover[cand][:, dem].astype(float)  # candidates × demand
    w = P.demand[dem]
    if p is not None:
        p = min(p, nc)  # candidates that cover nothing new would only pad the set
    if model in ("mclp", "target"):
        # warm start: the greedy solution, so a time-out still returns at least that
        sub = CoverageProblem(B.tocsr().astype(bool), w, None, P.already_covered, P.total)
        # target model: the demand to cover, or the best achievable when out of reach
        need = (0.0 if target is None
                else min(target * P.total - P.already_covered, float(w.sum())))
        g = _greedy_cover(sub, p if model == "mclp" else None,
                          None if model == "mclp" else need)
        xs0 = np.zeros(nc)
        xs0[g.chosen] = 1.0
        if model == "mclp" and p is not None and len(g.chosen) < p:
            # fill to exactly p with unused candidates
            free = np.flatnonzero(xs0 == 0)[: p - len(g.chosen)]
            xs0[free] = 1.0
        ys0 = np.minimum(1.0, np.asarray(B.T @ xs0).ravel())
        start = np.r_[xs0, ys0]
        # columns: x (nc, binary), y (nd, continuous 0..1); rows: y_i - sum_j B_ji x_j <= 0
        rows = sp.hstack([-B.T, sp.identity(nd, format="csr")], format="csr")
        rlo = np.full(nd, -np.inf)
        rhi = np.zeros(nd)
        integ = np.r_[np.ones(nc, bool), np.zeros(nd, bool)]
        lo = np.zeros(nc + nd)
        hi = np.ones(nc + nd)
        if model == "mclp":
            card = sp.csr_matrix(np.r_[np.ones(nc), np.zeros(nd)])
            rows = sp.vstack([rows, card], format="csr")
            rlo = np.r_[rlo, p]
            rhi = np.r_[rhi, p]
            c = np.r_[np.zeros(nc), w]
            status, x, meta = _highs_solve(c, lo, hi, integ, rows, rlo, rhi, maximize=True,
                                           time_limit_s=time_limit_s, start=start)
        else:
            covrow = sp.csr_matrix(np.r_[np.zeros(nc), w])
            rows = sp.vstack([rows, covrow], format="csr")
            rlo = np.r_[rlo, need - 1e-6]
            rhi = np.r_[rhi, np.inf]
            c = np.r_[np.ones(nc), np.zeros(nd)]
            status, x, meta = _highs_solve(c, lo, hi, integ, rows, rlo, rhi, maximize=False,
                                           time_limit_s=time_limit_s, start=start)
        xs = x[:nc] > 0.5
        chosen_local = np.flatnonzero(xs)
    else:  # capacity: x_j binary, z_k for each (j, i) pair >= 0
        cap = P.capacity if P.capacity is not None else np.full(P.n_candidates,
                                                                DEFAULT_NEW_SITE_PLACES)
        cap = cap[cand]
        coo = B.tocoo()
        k = len(coo.data)
        # sum_j z_ji <= w_i ; sum_i z_ji - cap_j x_j <= 0 ; sum x = p (or min sum x with cover)
        r1 = sp.csr_matrix((np.ones(k), (coo.col, nc + np.arange(k))), shape=(nd, nc + k))
        r2 = sp.hstack([sp.diags(-cap), sp.csr_matrix((np.ones(k), (coo.row, np.arange(k))),
                                                      shape=(nc, k))], format="csr")
        rows = sp.vstack([r1, r2], format="csr")
        rlo = np.full(nd + nc, -np.inf)
        rhi = np.r_[w, np.zeros(nc)]
        lo = np.zeros(nc + k)
        hi = np.r_[np.ones(nc), np.full(k, np.inf)]
        integ = np.r_[np.ones(nc, bool), np.zeros(k, bool)]
        if p is None and target is not None:  # the fewest sites that serve the target demand
            need = min(target * P.total - P.already_covered, float(min(w.sum(), cap.sum())))
            rows = sp.vstack([rows, sp.csr_matrix(np.r_[np.zeros(nc), np.ones(k)])], format="csr")
            rlo = np.r_[rlo, need - 1e-6]
            rhi = np.r_[rhi, np.inf]
            c = np.r_[np.ones(nc), np.zeros(k)]
            status, x, meta = _highs_solve(c, lo, hi, integ, rows, rlo, rhi, maximize=False,
                                           time_limit_s=time_limit_s)
        else:  # p sites serving the most demand (_check_model: p is given)
            rows = sp.vstack([rows, sp.csr_matrix(np.r_[np.ones(nc), np.zeros(k)])], format="csr")
            rlo = np.r_[rlo, p]
            rhi = np.r_[rhi, p]
            c = np.r_[np.zeros(nc), np.ones(k)]
            status, x, meta = _highs_solve(c, lo, hi, integ, rows, rlo, rhi, maximize=True,
                                           time_limit_s=time_limit_s)
        chosen_local = np.flatnonzero(x[:nc] > 0.5)
        z = x[nc:]
        asg = sp.csr_matrix((z, (cand[coo.row], dem[coo.col])), shape=P.cover.shape)
    chosen = cand[chosen_local]
    # order the chosen sites by the coverage each adds (greedy order within the optimal set)
    sub = CoverageProblem(P.cover[chosen], P.demand, None if P.capacity is None
                          else P.capacity[chosen], P.already_covered, P.total)
    if model == "capacity":
        # rank by the places each site fills in the optimal assignment
        served = np.asarray(asg.sum(axis=1)).ravel()[chosen]
        ranked = [int(j) for j in chosen[np.argsort(-served, kind="stable")]]
        gains = sorted(served.tolist(), reverse=True)
        covered_value = float(served.sum())
    else:
        order = _greedy_cover(sub, None, None)
        ranked = [int(chosen[j]) for j in order.chosen]
        ranked += [int(j) for j in chosen if int(j) not in ranked]  # sites adding nothing new
        gains = order.gains + [0.0] * (len(ranked) - len(order.gains))
        covered_value = float(sum(order.gains))
    res = SolveResult(ranked, gains, covered_value if model != "target" else float(len(chosen)),
                      meta["bound"], meta["gap"], "highs", status,
                      message=f"HiGHS: {status} in {time.perf_counter() - t0:.1f} s")
    if model == "capacity":
        res.assignment = asg
    return res


def _check_model(model: str, p: int | None, target: float | None) -> None:
    if model not in MODELS:
        raise ValueError(f"model {model!r} is not one of {MODELS}")
    if model == "mclp" and (p is None or p < 1):
        raise InputError(f"model='mclp' (maximal covering) needs a number of sites p >= 1, "
                         f"got p={p!r}")
    if model == "target" and (target is None or not 0 < target <= 1):
        raise InputError(f"model='target' needs a coverage rate target in (0, 1], "
                         f"got target={target!r}")
    if model == "capacity" and p is None and target is None:
        raise InputError("model='capacity' needs a number of sites p or a coverage rate target")
    if model == "capacity" and target is not None and not 0 < target <= 1:
        raise InputError(f"model='capacity' needs a coverage rate target in (0, 1], "
                         f"got target={target!r}")


def lp_bound(P: CoverageProblem, p: int, time_limit_s: float = 30.0) -> float:
    """Solve the LP relaxation of MCLP with ``p`` sites: an upper bound on any solution.

    Parameters
    ----------
    P
        The location problem.
    p
        Number of sites.
    time_limit_s
        HiGHS time limit in seconds.

    Returns
    -------
    float
        The relaxation's optimum (covered demand); 0 when no candidate covers any demand.
    """
    cand, dem = _useful(P)
    if len(cand) == 0:
        return 0.0
    nc, nd = len(cand), len(dem)
    B = P.cover[cand][:, dem].astype(float)
    rows = sp.vstack([sp.hstack([-B.T, sp.identity(nd, format="csr")], format="csr"),
                      sp.csr_matrix(np.r_[np.ones(nc), np.zeros(nd)])], format="csr")
    _, _, meta = _highs_solve(np.r_[np.zeros(nc), P.demand[dem]], np.zeros(nc + nd),
                              np.ones(nc + nd), np.zeros(nc + nd, bool), rows,
                              np.r_[np.full(nd, -np.inf), min(p, nc)],
                              np.r_[np.zeros(nd), min(p, nc)], maximize=True,
                              time_limit_s=time_limit_s, mip=False)
    return float(meta["objective"])


# --------------------------------------------------------------------------------------------
# the GeoDataFrame adapter
# --------------------------------------------------------------------------------------------


@dataclass
class SiteSuggestion:
    """Ranked suggested sites and what the solver proved.

    Attributes
    ----------
    sites
        One row per suggested site in build order, EPSG:4326: ``rank``, ``candidate_id``,
        ``name``, ``category``, ``newly_covered_pop_total`` / ``_pop_60plus`` / ``_pop_0to3``
        / ``_target`` (residents brought within the threshold by this site, beyond those
        ranked before it), ``cumulative_coverage`` (target-group rate after building it and
        those before), ``capacity_places``, ``lon``, ``lat`` (and ``lon_gcj02``/``lat_gcj02``
        on request), ``community_id``, ``community_name``, ``nearest_existing_facility`` and
        ``nearest_existing_walk_min``. With compound demand the ``newly_covered_pop_*``
        columns give way to ``newly_covered_compounds`` (compounds brought within the
        threshold through their gates), ``newly_covered_compound_residents`` (all their
        residents) and ``newly_covered_compound_ids``; ``newly_covered_target`` is their
        target group and ``cumulative_coverage`` the rate over the compounds' target group.
    added_area
        Per site (``rank``), the union of the cells (with compound demand: the compounds,
        ``n_compounds``) it newly covers, EPSG:4326.
    objective
        The solver's objective (see :class:`SolveResult`).
    bound
        Proved upper bound on the objective, when known.
    gap
        Relative optimality gap, when known.
    solver
        ``"greedy"``, ``"highs"``, or ``"none"`` when the target is already met.
    status
        The solver's status.
    message
        Plain-language summary in English: coverage before and after, shortfall, how far the
        solution can be from the best possible, dropped candidates, timings.
    model
        ``"mclp"``, ``"target"`` or ``"capacity"``.
    extra
        Diagnostics: matrix and solve seconds, candidates used and dropped, matrix size.
    message_zh
        The same summary in Chinese.
    """

    sites: gpd.GeoDataFrame
    added_area: gpd.GeoDataFrame
    objective: float
    bound: float | None
    gap: float | None
    solver: str
    status: str
    message: str
    model: str = "mclp"
    extra: dict[str, Any] = field(default_factory=dict)
    message_zh: str = ""

    def message_in(self, lang: str) -> str:
        """The plain-language summary in ``lang``.

        Parameters
        ----------
        lang
            ``"zh"`` or ``"en"``.

        Returns
        -------
        str
            :attr:`message_zh` for ``"zh"`` (when set), :attr:`message` otherwise.
        """
        return self.message_zh if lang == "zh" and self.message_zh else self.message


def _run_lines(en: list[str], zh: list[str], dropped: dict[str, int], n_given: int,
               t_matrix: float, t_solve: float) -> None:
    """Append the candidates left out and the run times to a suggestion's messages."""
    if any(dropped.values()):
        en.append(f"Candidates: {n_given} given, left out " + ", ".join(
            f"{v} {k.replace('_', ' ')}" for k, v in dropped.items() if v) + ".")
        zh.append(f"候选点: 共 {n_given} 处, 未采用 " + ", ".join(
            f"{_DROPPED_ZH.get(k, k)} {v} 处" for k, v in dropped.items() if v) + "。")
    en.append(f"Matrix {t_matrix:.1f} s, solve {t_solve:.1f} s.")
    zh.append(f"可达矩阵 {t_matrix:.1f} 秒, 求解 {t_solve:.1f} 秒。")


def suggest_sites(result: CoverageResult, network: WalkNetwork, scenario: Scenario,
                  category: str, *,
                  n_sites: int | None = None, target: float | None = None,
                  candidates: gpd.GeoDataFrame | None = None, exact: bool = False,
                  capacity_aware: bool = False, time_limit_s: float = 60.0,
                  with_gcj02: bool = False, water: gpd.GeoDataFrame | None = None,
                  verbose: bool = False, demand: str = "cells",
                  compounds: gpd.GeoDataFrame | None = None,
                  gates: gpd.GeoDataFrame | None = None) -> SiteSuggestion:
    """Suggest new sites for ``category`` from an analysis result.

    Parameters
    ----------
    result
        :class:`care15.analysis.CoverageResult` (cells with ``{c}_covered``, ``cell_snap``).
    network
        The walking network of the analysis.
    scenario
        Thresholds, speeds and targets.
    category
        ``"elderly"`` or ``"childcare"``.
    n_sites
        Number of new sites (maximal covering). Give this or ``target``; with neither, the
        scenario's coverage target is used.
    target
        Coverage rate of the target group to reach over the whole area.
    candidates
        Candidate sites (EPSG:4326 points with ``candidate_id``); generated from the network
        when None.
    exact
        Solve with HiGHS instead of the greedy heuristic.
    capacity_aware
        Childcare only: sites have 托位 capacities; demand is under-3 residents × enrolment.
    time_limit_s
        Solver time limit; the best solution found is returned with its gap.
    with_gcj02
        Add GCJ-02 coordinates (for Chinese web maps).
    water
        Water polygons (e.g. :func:`care15.candidates.water_from_osm`): candidates on water
        are left out. Candidates more than ``max_access_m`` from a street and duplicates
        (within 10 m) are always left out; the counts are in the message and ``extra``.
    verbose
        Show progress of the walking searches.
    demand
        ``"cells"``: the target group of each population cell, reached at the cell centre's
        street. ``"compounds"``: the target group of each residential compound (小区), reached
        through its gates (:func:`compound_cover`); needs ``compounds``.
    compounds
        Residential compounds (``compound_id``, ``residents`` or ``households``, optional
        ``pop_60plus``/``pop_0to3``; any CRS), for ``demand="compounds"``.
    gates
        Their gates (:func:`care15.gates.compound_gates`); found from the street crossings of
        the outlines, else the nearest streets, when None.

    Returns
    -------
    SiteSuggestion
        The ranked sites (EPSG:4326), the area each newly covers, and the solver's proof.
        When the target is already met, no sites and a message saying so.

    Raises
    ------
    InputError
        For an unknown ``category`` or ``demand``, ``capacity_aware`` with a category other
        than childcare or with compound demand, ``n_sites`` < 1, a ``target`` outside (0, 1],
        compound demand without compounds, or no usable candidate.

    See Also
    --------
    care15.candidates.candidates_from_file : Candidate sites from a planner's file.

    Examples
    --------
    Two new elderly-care sites for the embedded Helsinki demo (generated candidates):

    >>> from care15.analysis import analyze
    >>> from care15.region import demo_scenario, region_from_scenario
    >>> from care15.siting import suggest_sites
    >>> sc = demo_scenario()
    >>> region = region_from_scenario(sc)
    >>> res = analyze(region, sc)
    >>> s = suggest_sites(res, region.network, sc, "elderly", n_sites=2)
    >>> s.model, s.solver
    ('mclp', 'greedy')
    >>> s.sites[["rank", "candidate_id", "cumulative_coverage"]].round(3)
       rank candidate_id  cumulative_coverage
    0     1          g10                0.988
    1     2          g32                1.000
    >>> s.sites.crs.to_epsg()
    4326
    """
    from .access import reach

    if category not in std.CATEGORIES:
        raise InputError(f"unknown category {category!r}; allowed: {', '.join(std.CATEGORIES)}")
    if capacity_aware and category != "childcare":
        raise InputError(f"capacity_aware=True is for childcare (托位), not {category!r}; "
                         "use category='childcare'")
    if demand not in DEMANDS:
        raise InputError(f"demand must be one of {DEMANDS}, got {demand!r}")
    if demand == "compounds" and (compounds is None or len(compounds) == 0):
        raise InputError("demand='compounds' needs residential compounds (--compounds FILE|osm)")
    if demand == "compounds" and capacity_aware:
        raise InputError("capacity_aware=True (托位 assignment) works on cell demand only; "
                         "use demand='cells'")
    cat = std.CATEGORIES[category]
    cells = result.cells
    grp = cat.target_group
    pop = cells[grp].to_numpy(dtype=float)
    covered = cells[f"{category}_covered"].to_numpy(dtype=bool)
    total = float(pop.sum())
    already = float(pop[covered].sum())
    rate0 = already / total if total > 0 else None
    if n_sites is None and target is None:
        target = scenario.coverage_target(category)
    if n_sites is not None and n_sites < 1:
        raise InputError(f"n_sites must be at least 1, got {n_sites}")
    if target is not None and not 0 < target <= 1:
        raise InputError(f"target must be a coverage rate in (0, 1], got {target}")
    model = "capacity" if capacity_aware else ("mclp" if n_sites is not None else "target")
    t0 = time.perf_counter()
    if candidates is None:
        candidates = generated_candidates(network, cells)
    if len(candidates) == 0:
        raise InputError("no candidate sites: pass candidates (e.g. from "
                         "care15.candidates.candidates_from_file) with points inside the study "
                         "area")
    n_given = len(candidates)
    candidates, csnap = clean_candidates(candidates, network,
                                         max_access_m=scenario.analysis.max_access_m,
                                         water=water, warn=False, return_snap=True)
    dropped = candidates.attrs.get("dropped", {})
    if any(dropped.values()):
        log.warning("candidates left out: %s", dropped)
    if len(candidates) == 0:
        raise InputError(f"none of the {n_given} candidate sites is usable: {dropped} "
                         f"(more than {scenario.analysis.max_access_m:g} m from a street, on "
                         "water, or duplicates)")
    limit = scenario.targets.coverage_threshold_min * 60 * scenario.speed_for(category)
    if demand == "compounds":
        assert compounds is not None
        return _suggest_compounds(result, network, scenario, category, candidates, csnap,
                                  compounds, gates, limit, n_sites, target, exact, time_limit_s,
                                  with_gcj02, dropped, n_given, t0, verbose)
    if capacity_aware:
        weights = pop * scenario.analysis.enrolment_rate
        # existing places serve the enrolled demand first: uncovered places-demand only
        weights = np.where(covered, 0.0, weights)
        cap = candidates["capacity_places"].to_numpy(dtype=float) \
            if "capacity_places" in candidates else np.full(len(candidates), np.nan)
        n_default_cap = int((~(np.isfinite(cap) & (cap > 0))).sum())
        cap = np.where(np.isfinite(cap) & (cap > 0), cap, scenario.analysis.new_site_places)
        tot_d = total * scenario.analysis.enrolment_rate
        already_d = float((pop * scenario.analysis.enrolment_rate)[covered].sum())
    else:
        weights = np.where(covered, 0.0, pop)
        cap = None
        tot_d, already_d = total, already
    cell_snap = result.cell_snap
    if cell_snap is None:  # a result built without the analysis' snap: snap the centres here
        centres = gpd.GeoDataFrame(geometry=cells.geometry.centroid, crs=cells.crs)
        cell_snap = network.snap_gdf(centres, max_access_m=scenario.analysis.max_access_m)
    r = reach(network, csnap, cell_snap, limit, verbose=verbose)
    A = r.to_csr().astype(bool)
    P = coverage_problem(A, weights, capacity=cap, already_covered=already_d, total=tot_d)
    unreach = unreachable_residents(network, cell_snap, csnap, A, pop, covered)
    t_matrix = time.perf_counter() - t0
    zh_label = cat.label_zh
    thr = scenario.targets.coverage_threshold_min
    if model != "mclp" and target is not None and total > 0 and rate0 is not None \
            and rate0 >= target - 1e-12:
        msg = (f"{cat.label_en}: {rate0:.1%} of the target group already live within "
               f"{thr:g} min, at or above the target {target:.0%}; no new site is needed.")
        msg_zh = (f"{zh_label}: 已有 {rate0:.1%} 的服务人群在 {thr:g} 分钟步行范围内, 达到目标 "
                  f"{target:.0%}; 无需新增站点。")
        return _empty_suggestion(msg, model, msg_zh)
    if model == "mclp" and n_sites is not None and n_sites > P.n_candidates:
        log.warning("asked for %d sites but only %d candidates; suggesting at most %d",
                    n_sites, P.n_candidates, P.n_candidates)
    p = None if n_sites is None else min(n_sites, P.n_candidates)
    t1 = time.perf_counter()
    if exact:
        sol = solve_exact(P, model, p=p, target=target, time_limit_s=time_limit_s)
    else:
        sol = solve_greedy(P, model, p=p, target=target)
        if model == "mclp" and p is not None:
            b = lp_bound(P, p, time_limit_s=time_limit_s)
            sol.bound = b
            sol.gap = None if not b else max(0.0, (b - sol.objective) / b)
    t_solve = time.perf_counter() - t1
    sites = _site_table(result, network, candidates, csnap, P, sol, category, grp, total,
                        already, capacity_aware, scenario, with_gcj02)
    added = _added_area(cells, P, sol, category, capacity_aware)
    final = sites["cumulative_coverage"].iloc[-1] if len(sites) else rate0
    en: list[str] = [f"{cat.label_en}: {len(sites)} suggested sites, model {model}, "
                     f"{sol.solver} ({sol.status})."]
    zh: list[str] = [f"{zh_label}: 建议新增 {len(sites)} 处站点, 模型 {_MODEL_ZH.get(model, model)}, "
                     f"{_SOLVER_ZH.get(sol.solver, sol.solver)}"
                     f"({_STATUS_ZH.get(sol.status, sol.status)})。"]
    if model == "mclp" and n_sites is not None and len(sites) < n_sites:
        en.append(f"Asked for {n_sites}; only {len(sites)} candidate sites add uncovered "
                  f"residents, further sites would cover no one new.")
        zh.append(f"要求 {n_sites} 处; 只有 {len(sites)} 处候选点能新增覆盖居民, 更多站点不会再覆盖新的人。")
    if rate0 is not None and final is not None:
        en.append(f"Coverage of the target group within {thr:g} min: {rate0:.1%} → {final:.1%}.")
        zh.append(f"服务人群 {thr:g} 分钟步行覆盖率: {rate0:.1%} → {final:.1%}。")
    if target is not None and final is not None and final < target - 1e-9:
        short = math.ceil(target * total - final * total)
        en.append(f"The target {target:.0%} cannot be reached with these candidates: the best "
                  f"achievable is {final:.1%}, {short:,} residents short.")
        zh.append(f"这些候选点达不到目标 {target:.0%}: 最多只能达到 {final:.1%}, 还差 {short:,} 人。")
        en.append(_shortfall_text(unreach, target - final, total))
        zh.append(_shortfall_text(unreach, target - final, total, zh=True))
    elif unreach["share"] > 0:
        en.append(_unreachable_text(unreach))
        zh.append(_unreachable_text(unreach, zh=True))
    g_en, g_zh = _gap_text(sol, model)
    en.append(g_en)
    zh.append(g_zh)
    if capacity_aware and total > 0 and P.capacity is not None:
        before = _places_per_1000(result.facilities, cells)
        added_places = float(np.sum(P.capacity[sol.chosen])) if sol.chosen else 0.0
        after = before + added_places / cells["pop_total"].sum() * 1000 \
            if cells["pop_total"].sum() > 0 else before
        tgt_places = scenario.targets.childcare_places_per_1000
        en.append(f"托位 per 1,000 residents: {before:.2f} → {after:.2f} (target {tgt_places}).")
        zh.append(f"每千人托位数: {before:.2f} → {after:.2f}(目标 {tgt_places})。")
        if n_default_cap:
            nsp = scenario.analysis.new_site_places
            en.append(f"New sites without a capacity_places of their own are counted at "
                      f"{nsp:g} 托位 each "
                      f"(analysis.new_site_places; default: the top of the smallest 配建 "
                      f"band ≤30 托位, seed 002 Qujing, see care15.standards "
                      f"'childcare_new_site_places').")
            zh.append(f"没有自带 capacity_places 的新站点按每处 {nsp:g} 个托位计"
                      f"(analysis.new_site_places; 默认取最小配建档 ≤30 托位的上限, 依据曲靖 "
                      f"seed 002, 见 care15.standards 'childcare_new_site_places')。")
    _run_lines(en, zh, dropped, n_given, t_matrix, t_solve)
    return SiteSuggestion(sites=sites, added_area=added, objective=sol.objective,
                          bound=sol.bound, gap=sol.gap, solver=sol.solver, status=sol.status,
                          message=" ".join(x for x in en if x), model=model,
                          message_zh="".join(x for x in zh if x),
                          extra={"matrix_seconds": t_matrix, "solve_seconds": t_solve,
                                 "n_candidates": P.n_candidates,
                                 "candidates_dropped": dropped,
                                 "matrix_nnz": int(A.nnz), "unreachable": unreach,
                                 "new_site_places": (scenario.analysis.new_site_places
                                                     if capacity_aware else None)})


# --------------------------------------------------------------------------------------------
# compound demand: residential compounds reached through their gates
# --------------------------------------------------------------------------------------------


def _concat_snaps(sets: list[Snapped]) -> Snapped:
    """Several snapped point sets as one (same fields, concatenated in order)."""
    from .network import Snapped

    return Snapped(**{k: np.concatenate([getattr(x, k) for x in sets])
                      for k in sets[0].__dataclass_fields__})


def compound_cover(gn: Any, sites: gpd.GeoDataFrame, limit_m: float, *,
                   detour: float | None = None, max_access_m: float | None = None,
                   verbose: bool = False) -> sp.csr_matrix:
    """Sites × compounds: True where a site is within ``limit_m`` of a compound through a gate.

    A compound is reached from a site when, for some gate of the compound, the walk from the
    site to the gate over the routing network (closed compounds taken out, access legs
    included) plus the walk from the compound's interior (a point on its surface) to that
    gate, straight line × ``detour``, is at most ``limit_m``, as in
    :func:`care15.gates.gate_distances`. A site inside the compound reaches it directly
    (straight line × ``detour``); a compound without any usable gate joins the street nearest
    its point, as a cell would.

    Parameters
    ----------
    gn
        The routing network and gates (:func:`care15.gates.gate_network`).
    sites
        Site points (candidates, facilities) in any CRS.
    limit_m
        Longest walk, metres.
    detour
        Walking distance ÷ straight-line distance inside a compound (default
        :data:`care15.gates.DETOUR_FACTOR`).
    max_access_m
        Longest off-network leg of a site (default: the standard ``max_access_m``).
    verbose
        Show progress of the walking searches.

    Returns
    -------
    scipy.sparse.csr_matrix
        Boolean, ``len(sites)`` × ``len(gn.compounds)``.

    Examples
    --------
    A street with a compound north of it; its only gate is at x = 0. A site at x = 0 reaches
    it within 300 m, one at x = 600 (next to the compound's far wall) does not:

    >>> import geopandas as gpd, numpy as np, shapely
    >>> from care15.gates import gate_network
    >>> from care15.network import network_from_edges
    >>> from care15.siting import compound_cover
    >>> e = gpd.GeoDataFrame({"u": [0], "v": [1]}, crs="EPSG:32650",
    ...                      geometry=[shapely.LineString([(0, 0), (800, 0)])])
    >>> net = network_from_edges(e, crs="EPSG:32650")
    >>> comp = gpd.GeoDataFrame({"compound_id": ["c1"]}, crs="EPSG:32650",
    ...                         geometry=[shapely.box(0, 10, 600, 110)])
    >>> gates = gpd.GeoDataFrame({"compound_idx": [0], "compound_id": ["c1"],
    ...                           "gate_id": ["c1/g1"], "source": ["file"], "source_row": [0],
    ...                           "street_m": [10.0]}, crs="EPSG:32650",
    ...                          geometry=[shapely.Point(0, 10)])
    >>> gn = gate_network(net, comp, gates)
    >>> sites = gpd.GeoDataFrame(geometry=gpd.points_from_xy([0, 600], [0, 0]), crs=32650)
    >>> compound_cover(gn, sites, 500.0).toarray().ravel().tolist()
    [True, False]
    """
    from .access import reach
    from .gates import DETOUR_FACTOR, points_in_compounds

    det = DETOUR_FACTOR if detour is None else float(detour)
    max_access = std.get("max_access_m") if max_access_m is None else float(max_access_m)
    net, comp = gn.network, gn.compounds
    n = len(comp)
    pts = shapely.point_on_surface(comp.geometry.values)
    px, py = shapely.get_x(pts), shapely.get_y(pts)
    sl = sites.to_crs(net.crs)
    sg = sl.geometry.values
    sg = np.where(shapely.get_type_id(sg) == 0, sg, shapely.point_on_surface(sg))
    sx, sy = shapely.get_x(sg), shapely.get_y(sg)
    ssnap = net.snap(sx, sy, max_access_m=max_access)
    gs = gn.gate_snap
    ok_g = np.flatnonzero(np.asarray(gs.ok, dtype=bool))
    gc = gn.gates["compound_idx"].to_numpy().astype(np.int64)[ok_g]
    gx = shapely.get_x(gn.gates.geometry.values)[ok_g]
    gy = shapely.get_y(gn.gates.geometry.values)[ok_g]
    leg = det * np.hypot(gx - px[gc], gy - py[gc])
    has_gate = np.zeros(n, dtype=bool)
    has_gate[gc] = True
    direct = np.flatnonzero(~has_gate)
    dsnap = net.snap(px[direct], py[direct], max_access_m=max_access)
    tsnap = _concat_snaps([gs.subset(ok_g), dsnap])
    tcomp = np.r_[gc, direct].astype(np.int64)
    tleg = np.r_[leg, np.zeros(len(direct))]
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    if len(sl) and len(tcomp):
        r = reach(net, ssnap, tsnap, limit_m, verbose=verbose)
        keep = r.dist_m + tleg[r.cols] <= limit_m + 1e-9
        rows.append(r.rows[keep])
        cols.append(tcomp[r.cols[keep]])
    # a site inside a compound: the straight walk to the compound's point
    lookup = pd.Series(np.arange(n), index=comp["compound_id"].astype(str).to_numpy())
    inside_id = pd.Series(points_in_compounds(sl, comp), dtype=object)
    known = inside_id.notna().to_numpy()
    si = np.flatnonzero(known)
    ci = lookup.reindex(inside_id[known].astype(str).to_numpy()).to_numpy()
    good = np.isfinite(ci)
    si, ci = si[good], ci[good].astype(np.int64)
    near = det * np.hypot(sx[si] - px[ci], sy[si] - py[ci]) <= limit_m + 1e-9
    rows.append(si[near])
    cols.append(ci[near])
    rr = np.concatenate(rows) if rows else np.empty(0, np.int64)
    cc = np.concatenate(cols) if cols else np.empty(0, np.int64)
    A = sp.csr_matrix((np.ones(len(rr), dtype=bool), (rr, cc)), shape=(len(sl), n))
    A.sum_duplicates()
    return A.astype(bool)


def compound_demand(compounds: gpd.GeoDataFrame, group: str, *, group_share: float,
                    household_size: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Residents and target-group residents of each compound.

    Parameters
    ----------
    compounds
        Compounds with ``residents`` and/or ``households``, optional age counts
        (``pop_60plus``, ``pop_0to3``).
    group
        The target group column (``pop_60plus``, ``pop_0to3``).
    group_share
        Share of the target group among residents, used where a compound has no count of
        its own (the analysis' share over the area).
    household_size
        Persons per household, for compounds with households but no residents.

    Returns
    -------
    residents, target, estimated
        Residents, target-group residents, and True where the target count was estimated
        from ``group_share``.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> from care15.siting import compound_demand
    >>> c = gpd.GeoDataFrame({"residents": [1000.0, None], "households": [None, 100.0],
    ...                       "pop_60plus": [300.0, None]}, geometry=[shapely.Point(0, 0)] * 2)
    >>> res, tgt, est = compound_demand(c, "pop_60plus", group_share=0.2, household_size=2.5)
    >>> res.tolist(), tgt.tolist(), est.tolist()
    ([1000.0, 250.0], [300.0, 50.0], [False, True])
    """
    n = len(compounds)

    def _col(name: str) -> np.ndarray:
        if name in compounds.columns:
            return np.asarray(pd.to_numeric(compounds[name], errors="coerce"), dtype=float)
        return np.full(n, np.nan)

    res = _col("residents")
    res = np.where(np.isfinite(res), res, _col("households") * household_size)
    res = np.where(np.isfinite(res) & (res > 0), res, 0.0)
    own = _col(group)
    est = ~(np.isfinite(own) & (own >= 0))
    tgt = np.where(est, res * group_share, own)
    return res, tgt, est


def _suggest_compounds(result: CoverageResult, network: WalkNetwork, scenario: Scenario,
                       category: str, candidates: gpd.GeoDataFrame, csnap: Snapped,
                       compounds: gpd.GeoDataFrame, gates: gpd.GeoDataFrame | None,
                       limit: float, n_sites: int | None, target: float | None, exact: bool,
                       time_limit_s: float, with_gcj02: bool, dropped: dict[str, int],
                       n_given: int, t0: float, verbose: bool) -> SiteSuggestion:
    """:func:`suggest_sites` with compounds reached through their gates as the demand."""
    from .gates import MAPPED_SOURCES, compound_gates, gate_distances, gate_network

    cat = std.CATEGORIES[category]
    grp = cat.target_group
    cells = result.cells
    cpop = float(cells["pop_total"].sum())
    share = float(cells[grp].sum()) / cpop if cpop > 0 else 0.0
    comp = compounds.to_crs(network.crs).reset_index(drop=True)
    comp["compound_id"] = comp["compound_id"].astype(str)
    if gates is None:
        gates = compound_gates(comp, network)
    gn = gate_network(network, comp, gates)
    res_c, pop, est = compound_demand(gn.compounds, grp, group_share=share,
                                      household_size=scenario.analysis.household_size)
    max_access = scenario.analysis.max_access_m
    fac = result.facilities
    fac = fac.loc[(fac["category"] == category).to_numpy()] if "category" in fac else fac
    if len(fac):
        fd = gate_distances(gn, fac, max_access_m=max_access)["dist_m"].to_numpy()
        covered = fd <= limit + 1e-9
    else:
        covered = np.zeros(len(gn.compounds), dtype=bool)
    total = float(pop.sum())
    already = float(pop[covered].sum())
    rate0 = already / total if total > 0 else None
    model = "mclp" if n_sites is not None else "target"
    A = compound_cover(gn, candidates, limit, max_access_m=max_access, verbose=verbose)
    P = coverage_problem(A, np.where(covered, 0.0, pop), already_covered=already, total=total)
    t_matrix = time.perf_counter() - t0
    thr = scenario.targets.coverage_threshold_min
    src = gn.gates.drop_duplicates("compound_idx")["source"]
    n_mapped = int(src.isin(MAPPED_SOURCES).sum())
    n_inferred = int(len(src) - n_mapped)
    n_none = int(len(gn.compounds) - len(src))
    how_en = (f"Demand: {len(gn.compounds)} residential compounds (小区) reached through their "
              f"gates ({n_mapped} with mapped gates, {n_inferred} with gates inferred from "
              "street crossings or the nearest streets"
              + (f", {n_none} without any gate joined to the nearest street" if n_none else "")
              + f"); the walk inside a compound is the straight line × detour; "
              f"{int(covered.sum())} compounds already within {thr:g} min of an existing "
              "facility.")
    how_zh = (f"需求: {len(gn.compounds)} 个小区, 经小区出入口到达(其中 {n_mapped} 个有已标注的"
              f"出入口, {n_inferred} 个的出入口由道路穿越点或最近道路推断"
              + (f", {n_none} 个没有出入口, 直接接入最近道路" if n_none else "")
              + f"); 小区内步行按直线距离 × 绕行系数计; 已有 {int(covered.sum())} 个小区在现有"
              f"设施 {thr:g} 分钟步行范围内。")
    if int(est.sum()):
        how_en += (f" {int(est.sum())} compounds have no count of the target group; it is "
                   f"estimated at the area's share ({share:.1%} of residents).")
        how_zh += f"{int(est.sum())} 个小区没有服务人群人数, 按全区比例({share:.1%})估算。"
    if model == "target" and target is not None and total > 0 and rate0 is not None \
            and rate0 >= target - 1e-12:
        msg = (f"{cat.label_en}: {rate0:.1%} of the target group in compounds already live "
               f"within {thr:g} min through their gates, at or above the target {target:.0%}; "
               f"no new site is needed. {how_en}")
        msg_zh = (f"{cat.label_zh}: 已有 {rate0:.1%} 的小区服务人群经出入口在 {thr:g} 分钟步行"
                  f"范围内, 达到目标 {target:.0%}; 无需新增站点。{how_zh}")
        return _empty_suggestion(msg, model, msg_zh, compounds=True)
    p = None if n_sites is None else min(n_sites, P.n_candidates)
    t1 = time.perf_counter()
    if exact:
        sol = solve_exact(P, model, p=p, target=target, time_limit_s=time_limit_s)
    else:
        sol = solve_greedy(P, model, p=p, target=target)
        if model == "mclp" and p is not None:
            b = lp_bound(P, p, time_limit_s=time_limit_s)
            sol.bound = b
            sol.gap = None if not b else max(0.0, (b - sol.objective) / b)
    t_solve = time.perf_counter() - t1
    newly = _newly(P, sol, False)
    rows = []
    cum = already
    c = gn.compounds
    for rank, (j, (cols, _)) in enumerate(zip(sol.chosen, newly, strict=True), start=1):
        new_t = float(pop[cols].sum())
        cum += new_t
        rows.append({
            "rank": rank, "candidate_id": candidates["candidate_id"].iloc[j],
            "name": candidates["name"].iloc[j] if "name" in candidates else "",
            "category": category,
            "newly_covered_compounds": len(cols),
            "newly_covered_compound_residents": float(res_c[cols].sum()),
            "newly_covered_target": new_t,
            "newly_covered_compound_ids": ";".join(c["compound_id"].iloc[cols].astype(str)),
            "cumulative_coverage": min(1.0, cum / total) if total > 0 else np.nan,
        })
    if rows:
        sites = _locate_sites(pd.DataFrame(rows), result, candidates, csnap, sol.chosen,
                              category, scenario, with_gcj02)
    else:
        sites = _empty_suggestion("", model, compounds=True).sites
    parts = [{"rank": rank, "category": category, "n_compounds": len(cols),
              "geometry": c.geometry.iloc[cols].union_all()}
             for rank, (cols, _) in enumerate(newly, start=1) if len(cols)]
    added = (gpd.GeoDataFrame(parts, geometry="geometry", crs=c.crs).to_crs(4326) if parts else
             gpd.GeoDataFrame({"rank": [], "category": [], "n_compounds": []},
                              geometry=gpd.GeoSeries([], crs=4326)))
    final = sites["cumulative_coverage"].iloc[-1] if len(sites) else rate0
    n_new = int(sites["newly_covered_compounds"].sum()) if len(sites) else 0
    en: list[str] = [f"{cat.label_en}: {len(sites)} suggested sites, model {model}, "
                     f"{sol.solver} ({sol.status}), demand: compounds through their gates.",
                     how_en]
    zh: list[str] = [f"{cat.label_zh}: 建议新增 {len(sites)} 处站点, 模型 "
                     f"{_MODEL_ZH.get(model, model)}, {_SOLVER_ZH.get(sol.solver, sol.solver)}"
                     f"({_STATUS_ZH.get(sol.status, sol.status)}), 需求为经出入口到达的小区。",
                     how_zh]
    if model == "mclp" and n_sites is not None and len(sites) < n_sites:
        en.append(f"Asked for {n_sites}; only {len(sites)} candidate sites reach uncovered "
                  "compounds, further sites would cover no compound.")
        zh.append(f"要求 {n_sites} 处; 只有 {len(sites)} 处候选点能新增覆盖小区, 更多站点不会再覆盖新的小区。")
    if rate0 is not None and final is not None:
        en.append(f"{n_new} compounds newly within {thr:g} min; coverage of the target group "
                  f"in compounds: {rate0:.1%} → {final:.1%}.")
        zh.append(f"新增 {n_new} 个小区在 {thr:g} 分钟步行范围内; 小区服务人群覆盖率: "
                  f"{rate0:.1%} → {final:.1%}。")
    if target is not None and final is not None and final < target - 1e-9:
        short = math.ceil(target * total - final * total)
        en.append(f"The target {target:.0%} cannot be reached with these candidates: the best "
                  f"achievable is {final:.1%}, {short:,} residents short.")
        zh.append(f"这些候选点达不到目标 {target:.0%}: 最多只能达到 {final:.1%}, 还差 {short:,} 人。")
    reachable = np.zeros(len(pop), dtype=bool)
    if A.nnz:
        reachable[np.unique(A.indices)] = True
    far = ~covered & ~reachable & (pop > 0)
    if far.any():
        en.append(f"{int(far.sum())} uncovered compounds ({float(pop[far].sum()):,.0f} target "
                  "residents) are beyond every candidate through their gates.")
        zh.append(f"{int(far.sum())} 个未覆盖的小区(服务人群 {float(pop[far].sum()):,.0f} 人)"
                  "经出入口到达不了任何候选点。")
    g_en, g_zh = _gap_text(sol, model)
    en.append(g_en)
    zh.append(g_zh)
    _run_lines(en, zh, dropped, n_given, t_matrix, t_solve)
    return SiteSuggestion(sites=sites, added_area=added, objective=sol.objective,
                          bound=sol.bound, gap=sol.gap, solver=sol.solver, status=sol.status,
                          message=" ".join(x for x in en if x), model=model,
                          message_zh="".join(x for x in zh if x),
                          extra={"matrix_seconds": t_matrix, "solve_seconds": t_solve,
                                 "n_candidates": P.n_candidates,
                                 "candidates_dropped": dropped, "matrix_nnz": int(A.nnz),
                                 "demand": "compounds",
                                 "compounds": len(gn.compounds),
                                 "compounds_covered_before": int(covered.sum()),
                                 "compounds_beyond_every_candidate": int(far.sum()),
                                 "gate_notes": list(gates.attrs.get("notes", []))})


class Unreachable(TypedDict):
    """Target residents no candidate can serve, by reason (see :func:`unreachable_residents`)."""

    target_residents: float
    uncovered: float
    residents: float
    share: float
    far_from_street: float
    on_pieces_without_candidate: float
    pieces_without_candidate: int
    beyond_every_candidate: float


def unreachable_residents(network: WalkNetwork, cell_snap: Snapped, cand_snap: Snapped,
                          cover: sp.spmatrix, pop: np.ndarray,
                          covered: np.ndarray) -> Unreachable:
    """Uncovered target residents that no candidate can bring within the threshold, and why.

    Three reasons, in this order: the cell is farther than ``max_access_m`` from any walkable
    street (it was never attached: data); it lies on a network piece that holds no candidate
    (streets not joined to the rest in OSM, or no candidate supplied there: data); or every
    candidate on its piece is beyond the walking threshold (too few candidates there).

    Parameters
    ----------
    network
        The walking network.
    cell_snap
        The cells' positions on the network (``ok`` False: farther than ``max_access_m``).
    cand_snap
        The candidates' positions on the network.
    cover
        Candidates × cells, True where the candidate is within the threshold of the cell.
    pop
        Target-group residents of each cell.
    covered
        Cells already within the threshold of an existing facility.

    Returns
    -------
    Unreachable
        ``target_residents`` (all), ``uncovered``, ``residents`` no candidate can reach and
        their ``share`` of all, split into ``far_from_street``,
        ``on_pieces_without_candidate`` (with the number of such pieces that hold residents,
        ``pieces_without_candidate``) and ``beyond_every_candidate`` (residents).

    Examples
    --------
    Two streets that do not meet; the candidate is on the first, 10 residents on the second:

    >>> import geopandas as gpd, numpy as np, scipy.sparse as sp, shapely
    >>> from care15.network import network_from_edges
    >>> from care15.siting import unreachable_residents
    >>> e = gpd.GeoDataFrame({"u": [0, 2], "v": [1, 3]}, crs="EPSG:32650", geometry=[
    ...     shapely.LineString([(0, 0), (500, 0)]), shapely.LineString([(0, 900), (500, 900)])])
    >>> net = network_from_edges(e, crs="EPSG:32650")
    >>> cells = net.snap(np.array([100.0, 100.0]), np.array([10.0, 890.0]), max_access_m=250)
    >>> cand = net.snap(np.array([0.0]), np.array([0.0]))
    >>> r = unreachable_residents(net, cells, cand, sp.csr_matrix(np.array([[True, False]])),
    ...                           np.array([10.0, 10.0]), np.zeros(2, bool))
    >>> r["on_pieces_without_candidate"], r["pieces_without_candidate"], r["share"]
    (10.0, 1, 0.5)
    """
    pop = np.asarray(pop, dtype=float)
    total = float(pop.sum())
    open_ = ~np.asarray(covered, dtype=bool) & (pop > 0)
    reached = np.zeros(len(pop), dtype=bool)
    csr = sp.csr_matrix(cover)
    if csr.nnz:
        reached[np.unique(csr.indices)] = True
    cell_ok = np.asarray(cell_snap.ok, dtype=bool)
    cell_piece = np.asarray(network.component_of(cell_snap))
    cand_pieces = np.unique(np.asarray(network.component_of(cand_snap))[cand_snap.ok])
    far = open_ & ~cell_ok
    no_piece = open_ & cell_ok & ~np.isin(cell_piece, cand_pieces) & ~reached
    beyond = open_ & cell_ok & np.isin(cell_piece, cand_pieces) & ~reached
    res = float(pop[far | no_piece | beyond].sum())
    return Unreachable(
        target_residents=total, uncovered=float(pop[open_].sum()), residents=res,
        share=res / total if total > 0 else 0.0, far_from_street=float(pop[far].sum()),
        on_pieces_without_candidate=float(pop[no_piece].sum()),
        pieces_without_candidate=len(np.unique(cell_piece[no_piece])),
        beyond_every_candidate=float(pop[beyond].sum()))


def _unreachable_text(u: Unreachable, *, zh: bool = False) -> str:
    """Who no candidate can reach, by reason (data or candidate set)."""
    t = u["target_residents"]
    if t <= 0 or u["residents"] <= 0:
        return ("每位未覆盖的服务人群都在某个候选点的可达范围内。" if zh else
                "Every uncovered target resident is within reach of some candidate.")
    parts = []

    def _pct(v: float) -> str:
        if v / t >= 5e-4:
            return f"{v / t:.1%}"
        return f"{v:,.0f} 人" if zh else f"{v:,.0f} residents"

    if u["on_pieces_without_candidate"] > 0:
        parts.append(
            f"{_pct(u['on_pieces_without_candidate'])}住在 {u['pieces_without_candidate']} 片"
            "没有候选点可达的道路上(数据: 这些道路在 OSM 中未与其他道路相连; 请补上缺失的连接, "
            "或在这些道路上提供候选点)" if zh else
            f"{_pct(u['on_pieces_without_candidate'])} live on "
            f"{u['pieces_without_candidate']} street pieces no candidate reaches (data: "
            "those streets are not joined to the rest in OSM; add the missing links "
            "or supply candidates on them)")
    if u["far_from_street"] > 0:
        parts.append(f"{_pct(u['far_from_street'])}住得离任何步行道路都超过 max_access_m"
                     "(数据: OSM 在那里缺少道路)" if zh else
                     f"{_pct(u['far_from_street'])} live farther than max_access_m from any "
                     "walkable street (data: streets missing in OSM there)")
    if u["beyond_every_candidate"] > 0:
        parts.append(f"{_pct(u['beyond_every_candidate'])}所在道路上阈值内没有候选点"
                     "(候选点集合: 请提供更近的候选点)" if zh else
                     f"{_pct(u['beyond_every_candidate'])} have no candidate within the "
                     "threshold on their streets (candidate set: supply candidates nearer)")
    if zh:
        return f"{u['share']:.1%} 的服务人群任何候选点都无法到达: " + "; ".join(parts) + "。"
    return (f"{u['share']:.1%} of the target group cannot be reached by any candidate: "
            + "; ".join(parts) + ".")


def _shortfall_text(u: Unreachable, short: float, total: float, *, zh: bool = False) -> str:
    """Split a shortfall (rate) into its data part, candidate part and the rest."""
    if total <= 0:
        return ""
    pieces = u["on_pieces_without_candidate"] / total
    far = u["far_from_street"] / total
    beyond = u["beyond_every_candidate"] / total
    rest = short
    out = []
    n = u["pieces_without_candidate"]
    whats = ((f"住在没有候选点可达的道路片上(数据: {n} 片道路在 OSM 中未与其他道路相连; "
              "请在其上提供候选点或补上连接)", "住得离任何步行道路都超过 max_access_m(数据)",
              "所在道路上阈值内没有候选点(候选点集合)") if zh else
             (f"live on street pieces no candidate reaches (data: {n} pieces not joined to the "
              "rest in OSM; supply candidates on them or fix the links)",
              "live farther than max_access_m from any walkable street (data)",
              "have no candidate within the threshold on their streets (candidate set)"))
    for share, what in zip((pieces, far, beyond), whats, strict=True):
        part = min(rest, share)
        if part > 5e-4:
            out.append(f"{part:.1%} {what}")
        rest -= part
    if rest > 5e-4:
        out.append(f"{rest:.1%} 可由这些候选点中的更多站点覆盖(取决于站点数量或求解器的限制)" if zh
                   else f"{rest:.1%} could be reached by more sites among these candidates "
                   "(policy: the number of sites or the solver's limit)")
    if not out:
        return ""
    if zh:
        return (f"差额 {short:.1%} 中: " + "; ".join(out) + f"。总计 {u['share']:.1%} 的服务人群"
                "住在任何候选点都无法到达的地方。")
    return (f"Of the {short:.1%} short: " + "; ".join(out) + f". In all {u['share']:.1%} of "
            "the target group live where no candidate can reach them.")


_MODEL_ZH = {"mclp": "最大覆盖", "target": "目标覆盖率", "capacity": "考虑托位容量"}
_SOLVER_ZH = {"greedy": "贪心算法", "highs": "HiGHS 精确求解", "none": "无需求解"}
_STATUS_ZH = {"heuristic": "启发式", "Optimal": "最优", "Time limit reached": "达到时间上限",
              "target already met": "已达标", "Infeasible": "无可行解"}
_DROPPED_ZH = {"far_from_network": "距道路过远", "on_water": "位于水面", "duplicate": "重复"}


def _gap_text(sol: SolveResult, model: str) -> tuple[str, str]:
    """How far the solution can be from the best possible, in English and Chinese.

    Never a gap of ``inf%``: an optimal solution says so without a number; a finite gap is
    "at most X% from the best possible" with the bound it is measured against; no finite
    bound says that the distance is unknown.
    """
    gap, bound = sol.gap, sol.bound
    finite = gap is not None and math.isfinite(gap) and bound is not None and math.isfinite(bound)
    if sol.solver == "highs" and sol.status == "Optimal":
        return ("Optimal: HiGHS proved that no better solution exists.",
                "最优解: HiGHS 已证明不存在更好的方案。")
    if not finite:
        if sol.solver in ("highs", "greedy") and (model == "mclp" or sol.solver == "highs"):
            return ("No finite bound was proved, so how far this solution is from the best "
                    "possible is unknown.",
                    "未求得有限的界, 无法判断该方案与最优方案相差多少。")
        return "", ""
    assert gap is not None and bound is not None
    if model == "target":
        return (f"At most {gap:.1%} more sites than the fewest possible (the solver proved at "
                f"least {math.ceil(bound - 1e-9):,} sites are needed).",
                f"站点数至多比最少可能多 {gap:.1%}(求解器证明至少需要 "
                f"{math.ceil(bound - 1e-9):,} 处)。")
    if sol.solver == "greedy":
        name_en, name_zh = "the LP bound", "LP 界"
        why_en = "the coverage if sites could be built in fractions, which no real plan can beat"
        why_zh = "允许按比例建站时的覆盖量, 任何实际方案都不会超过它"
    else:
        name_en, name_zh = "the bound HiGHS proved", "HiGHS 证明的上界"
        why_en, why_zh = "from the LP relaxation and branch and bound", "来自 LP 松弛和分支定界"
    if gap <= 5e-5:
        return (f"The best possible: the {sol.objective:,.0f} covered equal {name_en} "
                f"({why_en}).",
                f"已是最优: 覆盖 {sol.objective:,.0f}, 等于{name_zh}({why_zh})。")
    return (f"At most {gap:.1%} from the best possible: {sol.objective:,.0f} covered, "
            f"{name_en} is {bound:,.0f} ({why_en}).",
            f"与最优方案相差至多 {gap:.1%}: 覆盖 {sol.objective:,.0f}, {name_zh}为 {bound:,.0f}"
            f"({why_zh})。")


def _places_per_1000(facilities: gpd.GeoDataFrame, cells: gpd.GeoDataFrame) -> float:
    from .rates import counted_facilities

    f = counted_facilities(facilities, "childcare", cells)
    places = float(f["places"].sum()) if "places" in f else 0.0
    pop = float(cells["pop_total"].sum())
    return places / pop * 1000 if pop > 0 else float("nan")


def _empty_suggestion(msg: str, model: str, msg_zh: str = "", *,
                      compounds: bool = False) -> SiteSuggestion:
    new = (["newly_covered_compounds", "newly_covered_compound_residents",
            "newly_covered_target", "newly_covered_compound_ids"] if compounds else
           ["newly_covered_pop_total", "newly_covered_pop_60plus", "newly_covered_pop_0to3",
            "newly_covered_target"])
    cols = ["rank", "candidate_id", "category", "lon", "lat", "community_id", "community_name",
            *new, "cumulative_coverage", "nearest_existing_facility",
            "nearest_existing_walk_min"]
    sites = gpd.GeoDataFrame({c: [] for c in cols}, geometry=gpd.GeoSeries([], crs=4326))
    area = gpd.GeoDataFrame({"rank": []}, geometry=gpd.GeoSeries([], crs=4326))
    return SiteSuggestion(sites, area, 0.0, 0.0, 0.0, "none", "target already met", msg, model,
                          message_zh=msg_zh)


def _newly(P: CoverageProblem, sol: SolveResult,
           capacity_aware: bool) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per chosen site (in rank order), the demand columns it newly covers and their share."""
    out: list[tuple[np.ndarray, np.ndarray]] = []
    covered = np.zeros(P.cover.shape[1], dtype=bool)
    for j in sol.chosen:
        if capacity_aware and sol.assignment is not None:
            row = sol.assignment.getrow(j)
            out.append((row.indices, row.data))
        else:
            cols = P.cover.indices[P.cover.indptr[j]:P.cover.indptr[j + 1]]
            new = cols[~covered[cols] & (P.demand[cols] > 0)]
            covered[new] = True
            out.append((new, np.ones(len(new))))
    return out


def _site_table(result: CoverageResult, network: WalkNetwork, candidates: gpd.GeoDataFrame,
                csnap: Snapped, P: CoverageProblem, sol: SolveResult, category: str, grp: str,
                total: float, already: float, capacity_aware: bool, scenario: Scenario,
                with_gcj02: bool) -> gpd.GeoDataFrame:
    cells = result.cells
    newly = _newly(P, sol, capacity_aware)
    rows = []
    cum = already
    enrol = scenario.analysis.enrolment_rate
    for rank, (j, (cols, share)) in enumerate(zip(sol.chosen, newly, strict=True), start=1):
        frac = share / enrol / np.maximum(cells[grp].to_numpy()[cols], 1e-12) \
            if capacity_aware else share
        frac = np.clip(frac, 0, 1)
        sub = cells.iloc[cols]
        new_t = float((sub[grp].to_numpy() * frac).sum())
        cum += new_t
        rows.append({
            "rank": rank, "candidate_id": candidates["candidate_id"].iloc[j],
            "name": candidates["name"].iloc[j] if "name" in candidates else "",
            "category": category,
            "newly_covered_pop_total": float((sub["pop_total"].to_numpy() * frac).sum()),
            "newly_covered_pop_60plus": float((sub["pop_60plus"].to_numpy() * frac).sum()),
            "newly_covered_pop_0to3": float((sub["pop_0to3"].to_numpy() * frac).sum()),
            "newly_covered_target": new_t,
            "cumulative_coverage": min(1.0, cum / total) if total > 0 else np.nan,
            "capacity_places": (float(P.capacity[j]) if capacity_aware and P.capacity is not None
                                else np.nan),
        })
    df = pd.DataFrame(rows)
    if len(df) == 0:
        return _empty_suggestion("", "").sites
    return _locate_sites(df, result, candidates, csnap, sol.chosen, category, scenario,
                         with_gcj02)


def _locate_sites(df: pd.DataFrame, result: CoverageResult, candidates: gpd.GeoDataFrame,
                  csnap: Snapped, chosen: list[int], category: str, scenario: Scenario,
                  with_gcj02: bool) -> gpd.GeoDataFrame:
    """The site rows ``df`` with their points, coordinates, community and nearest facility."""
    geom = candidates.geometry.iloc[chosen].to_crs(4326).values
    sites = gpd.GeoDataFrame(df, geometry=geom, crs=4326)
    sites["lon"] = sites.geometry.x.round(6)
    sites["lat"] = sites.geometry.y.round(6)
    if with_gcj02:
        from .chinacoords import wgs84_to_gcj02

        glon, glat = wgs84_to_gcj02(sites["lon"].to_numpy(), sites["lat"].to_numpy())
        sites["lon_gcj02"] = np.round(glon, 6)
        sites["lat_gcj02"] = np.round(glat, 6)
    comm = result.communities[["community_id", "community_name", "geometry"]].to_crs(4326)
    j = gpd.sjoin(sites[["geometry"]], comm, how="left", predicate="intersects")
    j = j[~j.index.duplicated()]
    sites["community_id"] = j["community_id"].fillna("_outside").to_numpy()
    sites["community_name"] = j["community_name"].fillna("(outside communities / 社区范围外)").to_numpy()
    # nearest existing facility: the node distances of the analysis
    nd = result.node_distances.get(category)
    sn = csnap.subset(np.asarray(chosen))
    if nd is not None:
        from .access import cell_distances

        d, who = cell_distances(nd, sn)
        fac = result.facilities
        fidx = np.flatnonzero((fac["category"] == category).to_numpy())
        ids = fac["facility_id"].to_numpy()[fidx]
        sites["nearest_existing_facility"] = [ids[w] if w >= 0 else None for w in who]
        sites["nearest_existing_walk_min"] = d / scenario.speed_for(category) / 60
    else:
        sites["nearest_existing_facility"] = None
        sites["nearest_existing_walk_min"] = np.inf
    return sites


def _added_area(cells: gpd.GeoDataFrame, P: CoverageProblem, sol: SolveResult, category: str,
                capacity_aware: bool) -> gpd.GeoDataFrame:
    newly = _newly(P, sol, capacity_aware)
    parts = []
    for rank, (cols, _) in enumerate(newly, start=1):
        if len(cols):
            g = cells.geometry.iloc[cols].union_all()
            parts.append({"rank": rank, "category": category, "n_cells": len(cols),
                          "geometry": g})
    if not parts:
        return gpd.GeoDataFrame({"rank": [], "category": [], "n_cells": []},
                                geometry=gpd.GeoSeries([], crs=4326))
    return gpd.GeoDataFrame(parts, geometry="geometry", crs=cells.crs).to_crs(4326)
