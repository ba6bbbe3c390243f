"""SBML import benchmark: a mid-size signalling model through ``load_sbml`` and libroadrunner.

The model is built here with python-libsbml: a receptor, a three-tier kinase cascade that
branches into two arms with cross-talk, two transcription factors, two genes and their
proteins feeding back on the receptor and the first kinase -- 35 species, 50 reactions (mass
action, Michaelis-Menten, Hill activation and inhibition), local parameters in the kinetic
laws and a few global ones, one compartment of size 2 (so amounts and concentrations differ
by 2x). Every law is written as MathML through ``libsbml.parseL3Formula``.

Measured, 0-100 time units, 1001 output points, rtol 1e-6 / atol 1e-9 (workbench's defaults,
set on libroadrunner's CVODE too):

1. cold start: a fresh ``python -c`` per run (median of 5) timing ``import workbench.sbml``,
   ``load_sbml`` and the first ``simulate``; libroadrunner likewise (``import roadrunner``,
   ``RoadRunner(path)`` with its LLVM compile, first ``simulate``). A first simulate above
   10 s means numba's disk cache was cold (kernel sources edited since ``workbench warmup``):
   that run is reported apart and the median taken over later runs;
2. warm, in this process, like for like: ``load_sbml`` with workbench's in-process cache of
   compiled network structures cleared against ``RoadRunner(path)`` forced to recompile, and
   both tools' default repeated load (libroadrunner reuses the compiled model of identical
   SBML text while an instance holding it is alive; workbench reuses the compiled structure),
   medians of 20; ``simulate`` against ``reset()`` + ``simulate``, medians of 50;
3. agreement: both at rtol 1e-8 / atol 1e-14, species amounts against amounts (a bare id in
   libroadrunner's selections is the amount, ``[id]`` the concentration -- checked here), and
   each tool's error against a reference (libroadrunner at rtol 1e-12 / atol 1e-18, checked
   against workbench at the same tolerances).

    python benchmarks/run.py sbml_import
    python benchmarks/sbml_import.py --profile   # also: top of cProfile for load_sbml
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import libsbml
import numpy as np
from common import fmt_time, interleaved_medians, print_table

T_END, N_POINTS = 100.0, 1001
RTOL, ATOL = 1e-6, 1e-9
VOLUME = 2.0
COLD_RUNS = 5
CACHE_COLD_S = 10.0

# --- the model -----------------------------------------------------------------------------
#: Initial concentrations (species not listed start at 0).
_INITIAL = dict(
    L=10.0, R=5.0, A=3.0, B=3.0, X1=2.0, X2=2.0, X3=1.0, Y1=2.0, Y2=2.0, Y3=1.0, TF1=1.0, TF2=1.0, PP1=1.0, PP2=1.0
)
_SPECIES = (
    "L R C CA A Ap ApB ApBp B Bp Bpp X1 X1p X1pp X2 X2p X2pp X3 X3p "
    "Y1 Y1p Y2 Y2p Y3 Y3p TF1 TF1p TF2 TF2p M1 P1 M2 P2 PP1 PP2"
).split()
_GLOBALS = dict(kon=0.5, koff=0.1, kint=0.02, nH=2.0, Kh=0.3, Vtx=0.5, ktl=1.0, kdegM=0.2, kdegP=0.05)


def _mm(enzyme: str, substrate: str, kcat: float, km: float) -> tuple[str, dict[str, float]]:
    return f"cell * kcat * {enzyme} * {substrate} / (Km + {substrate})", {"kcat": kcat, "Km": km}


def _reactions() -> list[tuple[str, dict[str, float], dict[str, float], list[str], str, dict[str, float]]]:
    """(id, reactants, products, modifiers, formula, local parameters) for every reaction."""
    rx: list = []

    def add(rid, reactants, products, formula, local=None, modifiers=()):
        rx.append((rid, reactants, products, list(modifiers), formula, local or {}))

    # receptor: binding, internalisation, synthesis inhibited by P2 (Hill), turnover
    add("bind", {"L": 1, "R": 1}, {"C": 1}, "cell * kon * L * R")
    add("unbind", {"C": 1}, {"L": 1, "R": 1}, "cell * koff * C")
    add("internalise", {"C": 1}, {}, "cell * kint * C")
    add("R_synth", {}, {"R": 1}, "cell * ks / (1 + (P2 / Ki)^nH)", {"ks": 0.1, "Ki": 0.5}, ["P2"])
    add("R_deg", {"R": 1}, {}, "cell * kd * R", {"kd": 0.02})
    add("L_deg", {"L": 1}, {}, "cell * kd * L", {"kd": 0.01})
    # tier 1: explicit enzyme complex, C phosphorylates A
    add("CA_on", {"C": 1, "A": 1}, {"CA": 1}, "cell * k * C * A", {"k": 1.0})
    add("CA_off", {"CA": 1}, {"C": 1, "A": 1}, "cell * k * CA", {"k": 0.5})
    add("CA_cat", {"CA": 1}, {"C": 1, "Ap": 1}, "cell * k * CA", {"k": 2.0})
    add("Ap_dephos", {"Ap": 1}, {"A": 1}, *_mm("PP1", "Ap", 1.0, 1.0), ["PP1"])
    # tier 2: Ap double-phosphorylates B through explicit complexes
    add("ApB_on", {"Ap": 1, "B": 1}, {"ApB": 1}, "cell * k * Ap * B", {"k": 1.0})
    add("ApB_off", {"ApB": 1}, {"Ap": 1, "B": 1}, "cell * k * ApB", {"k": 0.5})
    add("ApB_cat", {"ApB": 1}, {"Ap": 1, "Bp": 1}, "cell * k * ApB", {"k": 1.5})
    add("ApBp_on", {"Ap": 1, "Bp": 1}, {"ApBp": 1}, "cell * k * Ap * Bp", {"k": 1.0})
    add("ApBp_off", {"ApBp": 1}, {"Ap": 1, "Bp": 1}, "cell * k * ApBp", {"k": 0.5})
    add("ApBp_cat", {"ApBp": 1}, {"Ap": 1, "Bpp": 1}, "cell * k * ApBp", {"k": 1.5})
    add("Bpp_dephos", {"Bpp": 1}, {"Bp": 1}, *_mm("PP1", "Bpp", 0.8, 0.5), ["PP1"])
    add("Bp_dephos", {"Bp": 1}, {"B": 1}, *_mm("PP1", "Bp", 0.8, 0.5), ["PP1"])
    # arm X (double phosphorylations, Michaelis-Menten), driven by Bpp
    for i, (kin, kcat, km) in enumerate([("Bpp", 1.0, 0.8), ("X1pp", 1.2, 0.6)], start=1):
        s, p, pp = f"X{i}", f"X{i}p", f"X{i}pp"
        add(f"{s}_phos", {s: 1}, {p: 1}, *_mm(kin, s, kcat, km), [kin])
        add(f"{p}_phos", {p: 1}, {pp: 1}, *_mm(kin, p, kcat, km), [kin])
        add(f"{pp}_dephos", {pp: 1}, {p: 1}, *_mm("PP2", pp, 0.6, 0.4), ["PP2"])
        add(f"{p}_dephos", {p: 1}, {s: 1}, *_mm("PP2", p, 0.6, 0.4), ["PP2"])
    add("X3_phos", {"X3": 1}, {"X3p": 1}, *_mm("X2pp", "X3", 1.5, 0.5), ["X2pp"])
    add("X3p_dephos", {"X3p": 1}, {"X3": 1}, "cell * k * X3p", {"k": 0.3})
    # arm Y (single phosphorylations), driven by Bpp, with cross-talk from X3p onto Y2
    for kin, s, kcat, km in [("Bpp", "Y1", 0.8, 1.0), ("Y1p", "Y2", 1.0, 0.7), ("Y2p", "Y3", 1.2, 0.5)]:
        add(f"{s}_phos", {s: 1}, {f"{s}p": 1}, *_mm(kin, s, kcat, km), [kin])
        add(f"{s}p_dephos", {f"{s}p": 1}, {s: 1}, *_mm("PP2", f"{s}p", 0.5, 0.5), ["PP2"])
    add("Y2_crosstalk", {"Y2": 1}, {"Y2p": 1}, *_mm("X3p", "Y2", 0.3, 1.0), ["X3p"])
    # transcription factors
    add("TF1_act", {"TF1": 1}, {"TF1p": 1}, *_mm("X3p", "TF1", 2.0, 0.5), ["X3p"])
    add("TF1_inact", {"TF1p": 1}, {"TF1": 1}, "cell * k * TF1p", {"k": 0.4})
    add("TF2_act", {"TF2": 1}, {"TF2p": 1}, *_mm("Y3p", "TF2", 2.0, 0.5), ["Y3p"])
    add("TF2_inact", {"TF2p": 1}, {"TF2": 1}, "cell * k * TF2p", {"k": 0.4})
    # genes: Hill activation (gene 2 needs both factors), translation, turnover
    add("M1_tx", {}, {"M1": 1}, "cell * Vtx * TF1p^nH / (Kh^nH + TF1p^nH)", modifiers=["TF1p"])
    add(
        "M2_tx",
        {},
        {"M2": 1},
        "cell * Vtx * TF1p^nH / (Kh^nH + TF1p^nH) * TF2p^nH / (Kh^nH + TF2p^nH)",
        modifiers=["TF1p", "TF2p"],
    )
    for m, p in [("M1", "P1"), ("M2", "P2")]:
        add(f"{m}_deg", {m: 1}, {}, f"cell * kdegM * {m}")
        add(f"{p}_tl", {}, {p: 1}, f"cell * ktl * {m}", modifiers=[m])
        add(f"{p}_deg", {p: 1}, {}, f"cell * kdegP * {p}")
    # feedback: P1 dephosphorylates Ap and Bpp; P1 and P2 dimerise and are degraded
    add("Ap_feedback", {"Ap": 1}, {"A": 1}, *_mm("P1", "Ap", 0.5, 0.5), ["P1"])
    add("Bpp_feedback", {"Bpp": 1}, {"Bp": 1}, *_mm("P1", "Bpp", 0.3, 0.5), ["P1"])
    add("P1P2_deg", {"P1": 1, "P2": 1}, {}, "cell * k * P1 * P2", {"k": 0.05})
    return rx


def _check(code: int, what: str) -> None:
    if code != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise RuntimeError(f"libsbml: {what} failed ({libsbml.OperationReturnValue_toString(code)})")


def build_sbml() -> str:
    """The benchmark model as SBML Level 3 Version 2 text."""
    doc = libsbml.SBMLDocument(3, 2)
    model = doc.createModel()
    model.setId("signalling_cascade")
    model.setName("branched signalling cascade with feedback")
    comp = model.createCompartment()
    _check(comp.setId("cell"), "compartment")
    comp.setSize(VOLUME)
    comp.setConstant(True)
    comp.setSpatialDimensions(3)
    for sid in _SPECIES:
        sp = model.createSpecies()
        _check(sp.setId(sid), f"species {sid}")
        sp.setCompartment("cell")
        sp.setInitialConcentration(_INITIAL.get(sid, 0.0))
        sp.setHasOnlySubstanceUnits(False)
        sp.setBoundaryCondition(False)
        sp.setConstant(False)
    for pid, value in _GLOBALS.items():
        par = model.createParameter()
        _check(par.setId(pid), f"parameter {pid}")
        par.setValue(value)
        par.setConstant(True)
    for rid, reactants, products, modifiers, formula, local in _reactions():
        r = model.createReaction()
        _check(r.setId(rid), f"reaction {rid}")
        r.setReversible(False)
        for sid, n in reactants.items():
            ref = r.createReactant()
            ref.setSpecies(sid)
            ref.setStoichiometry(n)
            ref.setConstant(True)
        for sid, n in products.items():
            ref = r.createProduct()
            ref.setSpecies(sid)
            ref.setStoichiometry(n)
            ref.setConstant(True)
        for sid in modifiers:
            r.createModifier().setSpecies(sid)
        law = r.createKineticLaw()
        for pid, value in local.items():
            lp = law.createLocalParameter()
            lp.setId(pid)
            lp.setValue(value)
        math = libsbml.parseL3Formula(formula)
        if math is None:
            raise RuntimeError(f"{rid}: {libsbml.getLastParseL3Error()}")
        _check(law.setMath(math), f"kinetic law of {rid}")
    doc.checkConsistency()
    errors = [doc.getError(i) for i in range(doc.getNumErrors()) if doc.getError(i).isError()]
    if errors:
        raise RuntimeError("; ".join(e.getMessage().strip() for e in errors[:5]))
    return libsbml.writeSBMLToString(doc)


# --- cold start in fresh processes -----------------------------------------------------------
_WB_COLD = """
import json, sys, time
t0 = time.perf_counter()
import workbench.sbml
t1 = time.perf_counter()
model = workbench.sbml.load_sbml(sys.argv[1])
t2 = time.perf_counter()
traj = model.simulate(t_end={t_end}, n_points={n})
t3 = time.perf_counter()
print(json.dumps({{"import": t1 - t0, "load": t2 - t1, "simulate": t3 - t2}}))
"""

_RR_COLD = """
import json, sys, time
t0 = time.perf_counter()
import roadrunner
t1 = time.perf_counter()
rr = roadrunner.RoadRunner(sys.argv[1])
t2 = time.perf_counter()
rr.integrator.relative_tolerance = {rtol}
rr.integrator.absolute_tolerance = {atol}
rr.simulate(0.0, {t_end}, {n})
t3 = time.perf_counter()
print(json.dumps({{"import": t1 - t0, "load": t2 - t1, "simulate": t3 - t2}}))
"""


def _fresh_process(code: str, path: Path) -> dict[str, float]:
    source = textwrap.dedent(code).format(t_end=T_END, n=N_POINTS, rtol=RTOL, atol=ATOL)
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", source, str(path)], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        raise RuntimeError(f"fresh process failed:\n{out.stderr[-2000:]}")
    times = json.loads(out.stdout.strip().splitlines()[-1])
    times["process"] = wall  # interpreter start-up and exit included
    return times


def cold_start(path: Path) -> dict:
    """Medians of fresh-process timings for both tools, run alternately."""
    wb_runs, rr_runs, cache_cold = [], [], None
    first = _fresh_process(_WB_COLD, path)
    if max(first["load"], first["simulate"]) > CACHE_COLD_S:
        cache_cold = first  # numba compiled (and cached) the kernels: time the warm cache next
    else:
        wb_runs.append(first)
    rr_runs.append(_fresh_process(_RR_COLD, path))
    while len(wb_runs) < COLD_RUNS or len(rr_runs) < COLD_RUNS:
        if len(wb_runs) < COLD_RUNS:
            wb_runs.append(_fresh_process(_WB_COLD, path))
        if len(rr_runs) < COLD_RUNS:
            rr_runs.append(_fresh_process(_RR_COLD, path))

    def medians(runs):
        return {key: statistics.median(r[key] for r in runs) for key in runs[0]}

    return {"workbench": medians(wb_runs), "roadrunner": medians(rr_runs), "workbench_cache_cold": cache_cold}


# --- warm, in this process -------------------------------------------------------------------
def _roadrunner(path: Path, rtol: float, atol: float, species: list[str]):
    import roadrunner

    rr = roadrunner.RoadRunner(str(path))
    rr.integrator.relative_tolerance = rtol
    rr.integrator.absolute_tolerance = atol
    # a bare species id selects its amount, "[id]" its concentration: check on the initial state
    for sid in species:
        amount, conc = rr.getValue(sid), rr.getValue(f"[{sid}]")
        if not np.isclose(amount, conc * VOLUME, rtol=1e-12, atol=0.0):
            raise RuntimeError(f"libroadrunner selection {sid!r} is not the amount ({amount} vs [{sid}] = {conc})")
    rr.timeCourseSelections = ["time", *species]
    return rr


def _rel_diff(a: np.ndarray, b: np.ndarray, species: list[str], times: np.ndarray) -> dict:
    """Largest |a - b| / |b| over entries with |b| > 1e-6, and where it is."""
    mask = np.abs(b) > 1e-6
    rel = np.where(mask, np.abs(a - b) / np.where(mask, np.abs(b), 1.0), 0.0)
    i, j = np.unravel_index(np.argmax(rel), rel.shape)
    return {"max": float(rel[i, j]), "species": species[j], "t": float(times[i])}


def agreement(path: Path, species: list[str]) -> dict:
    """Both tools' amounts against each other at rtol 1e-8 / atol 1e-14, and against references.

    The references are both tools at rtol 1e-12 / atol 1e-18 (checked against each other);
    each tool's error is also given at the benchmark's tolerances.
    """
    from workbench.sbml import load_sbml

    def ours(rtol, atol):
        return load_sbml(path).simulate(t_end=T_END, n_points=N_POINTS, rtol=rtol, atol=atol).values

    def theirs(rtol, atol):
        rr = _roadrunner(path, rtol, atol, species)
        out = np.asarray(rr.simulate(0.0, T_END, N_POINTS))
        return out[:, 1:]

    times = np.linspace(0.0, T_END, N_POINTS)
    ref = theirs(1e-12, 1e-18)
    result = {
        "tools_at_1e-8": _rel_diff(ours(1e-8, 1e-14), theirs(1e-8, 1e-14), species, times),
        "references": _rel_diff(ours(1e-12, 1e-18), ref, species, times),
    }
    for label, (rtol, atol) in {"at_1e-8": (1e-8, 1e-14), "at_defaults": (RTOL, ATOL)}.items():
        result[f"workbench_error_{label}"] = _rel_diff(ours(rtol, atol), ref, species, times)
        result[f"roadrunner_error_{label}"] = _rel_diff(theirs(rtol, atol), ref, species, times)
    return result


def _structure_cache():
    """workbench's in-process cache of compiled network structures (symbolic derivatives), if any."""
    from workbench.core import network

    cache = getattr(network, "_COMPILED", None)
    return getattr(cache, "_data", None)


def _uncached(load, path: Path):
    """``load(path)`` as on a first import of this structure: like libroadrunner's recompile."""
    _structure_cache().clear()
    return load(path)


def warm(path: Path) -> dict:
    import roadrunner

    from workbench.sbml import load_sbml

    model = load_sbml(path)
    species = list(model.simulate(t_end=T_END, n_points=N_POINTS).species)
    rr = _roadrunner(path, RTOL, ATOL, species)
    recompile = roadrunner.LoadSBMLOptions()
    recompile.recompile = True
    tasks = {"workbench load_sbml": lambda: load_sbml(path)}
    if _structure_cache() is not None:
        tasks["workbench load_sbml, structure cache cleared"] = lambda: _uncached(load_sbml, path)
    loads = interleaved_medians(
        {
            **tasks,
            "libroadrunner RoadRunner(path), recompiled": lambda: roadrunner.RoadRunner(str(path), recompile),
            "libroadrunner RoadRunner(path), compiled model reused": lambda: roadrunner.RoadRunner(str(path)),
        },
        repeats=20,
        budget_s=25.0,
    )

    def rr_run():
        rr.reset()
        return rr.simulate(0.0, T_END, N_POINTS)

    sims = interleaved_medians(
        {
            "workbench simulate": lambda: model.simulate(t_end=T_END, n_points=N_POINTS),
            "libroadrunner reset+simulate (CVODE)": rr_run,
        },
        repeats=50,
        budget_s=15.0,
    )
    return {"load": loads, "simulate": sims, "species": species}


def profile_load(path: Path, top: int = 5) -> None:
    """Print the top of a cProfile of ``load_sbml`` (cumulative time), as repeated and uncached."""
    import cProfile
    import pstats

    from workbench.sbml import load_sbml

    load_sbml(path)
    runs = [("repeated", load_sbml)]
    if _structure_cache() is not None:
        runs.append(("structure cache cleared before each", None))
    for label, load in runs:
        prof = cProfile.Profile()
        for _ in range(10):
            if load is not load_sbml:
                _structure_cache().clear()
            prof.enable()
            load_sbml(path)
            prof.disable()
        print(f"\ncProfile of 10 load_sbml calls ({label}), by cumulative time:")
        pstats.Stats(prof).sort_stats("cumulative").print_stats(top + 1)


def main(profile: bool = False) -> dict:
    sbml = build_sbml()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "signalling_cascade.xml"
        path.write_text(sbml, encoding="utf-8")
        cold = cold_start(path)
        hot = warm(path)
        agree = agreement(path, hot["species"])
        result = _report(cold, hot, agree)
        if profile:
            profile_load(path)
    return result


def _report(cold: dict, hot: dict, agree: dict) -> dict:
    """Print the tables; the results as a dict."""
    n_reactions = len(_reactions())
    wb_c, rr_c = cold["workbench"], cold["roadrunner"]
    rows = []
    for label, key in [
        ("import (workbench.sbml / roadrunner)", "import"),
        ("load (load_sbml / RoadRunner)", "load"),
        ("first simulate", "simulate"),
    ]:
        rows.append([label, fmt_time(wb_c[key]), fmt_time(rr_c[key]), f"{wb_c[key] / rr_c[key]:.1f}x"])
    total_wb = wb_c["import"] + wb_c["load"] + wb_c["simulate"]
    total_rr = rr_c["import"] + rr_c["load"] + rr_c["simulate"]
    rows.append(
        ["import + load + first simulate", fmt_time(total_wb), fmt_time(total_rr), f"{total_wb / total_rr:.1f}x"]
    )
    rows.append(
        [
            "whole process (python -c)",
            fmt_time(wb_c["process"]),
            fmt_time(rr_c["process"]),
            f"{wb_c['process'] / rr_c['process']:.1f}x",
        ]
    )
    print_table(
        f"SBML import, cold: fresh process, {len(_SPECIES)} species, {n_reactions} reactions "
        f"(median of {COLD_RUNS}; ratio workbench / libroadrunner)",
        ["step", "workbench", "libroadrunner", "ratio"],
        rows,
    )
    if cold["workbench_cache_cold"] is not None:
        c = cold["workbench_cache_cold"]
        print(
            f"  cache cold on the first run (numba compiled the kernels): import {fmt_time(c['import'])}, "
            f"load_sbml {fmt_time(c['load'])}, first simulate {fmt_time(c['simulate'])}; medians above are warm-cache"
        )

    loads, sims = hot["load"], hot["simulate"]
    pairs = [
        (
            "load, compiled afresh (structure cache cleared / recompile)",
            loads.get("workbench load_sbml, structure cache cleared"),
            loads["libroadrunner RoadRunner(path), recompiled"],
        ),
        (
            "load again, compiled structure reused (both default)",
            loads["workbench load_sbml"],
            loads["libroadrunner RoadRunner(path), compiled model reused"],
        ),
        (
            "simulate (workbench / reset + simulate)",
            sims["workbench simulate"],
            sims["libroadrunner reset+simulate (CVODE)"],
        ),
    ]
    rows = [
        [label, fmt_time(a) if a is not None else "-", fmt_time(b), f"{a / b:.2f}x" if a is not None else "-"]
        for label, a, b in pairs
    ]
    print_table(
        f"SBML import, warm (this process): 0-{T_END:g}, {N_POINTS} outputs, rtol {RTOL:g}, atol {ATOL:g} "
        "(medians of 20 loads, 50 simulations; ratio workbench / libroadrunner)",
        ["task", "workbench", "libroadrunner", "ratio"],
        rows,
    )
    a = agree
    print(
        f"\nagreement, amounts vs amounts, max relative difference over values above 1e-6:\n"
        f"  workbench vs libroadrunner, both at rtol 1e-8 / atol 1e-14: {a['tools_at_1e-8']['max']:.2e} "
        f"({a['tools_at_1e-8']['species']} at t = {a['tools_at_1e-8']['t']:g})\n"
        f"  references (each tool at rtol 1e-12 / atol 1e-18) against each other: {a['references']['max']:.2e}\n"
        f"  error against the libroadrunner reference at rtol 1e-8: workbench "
        f"{a['workbench_error_at_1e-8']['max']:.2e}, libroadrunner {a['roadrunner_error_at_1e-8']['max']:.2e}; "
        f"at rtol {RTOL:g} / atol {ATOL:g}: workbench {a['workbench_error_at_defaults']['max']:.2e}, "
        f"libroadrunner {a['roadrunner_error_at_defaults']['max']:.2e}"
    )
    return {
        "n_species": len(_SPECIES),
        "n_reactions": n_reactions,
        "cold": cold,
        "warm_load": loads,
        "warm_simulate": sims,
        "ratios_warm": {label: (a / b if a is not None else None) for label, a, b in pairs},
        "agreement": agree,
    }


if __name__ == "__main__":
    main(profile="--profile" in sys.argv[1:])
