"""Teaching widgets (ipywidgets): display only, over the analysis layer's exercises.

Widgets need a live kernel; the web book has none. So every widget here is a thin
view over functions of :mod:`qda.analysis.exercises` (selection and scoring, tested
there), and the book prints the same data as each widget's static rendering.

- :class:`CodingExercise` : code passages yourself and see your agreement with the
  team's reading update as you tick codes (percent agreement, Cohen's kappa).
- :func:`excerpt_browser` : passages by code, theme, gender and career stage
  (:func:`qda.analysis.exercises.browse_excerpts`).
- :func:`cooccurrence_explorer` : how the co-occurrence rule changes the analysis set.
- The six craft exercises: :func:`open_coding_widget`, :func:`criteria_widget`,
  :func:`unitizing_widget`, :func:`reconciliation_widget`, :func:`memo_widget`,
  :func:`theme_widget`.

Each widget writes its result into an ``ipywidgets.HTML`` value (not an ``Output``
capture): the value is part of the widget state that MyST-NB saves at execution,
so the web book shows the last result, and a test can read it without a kernel.
The team's coding is always presented as one team's reading, not the truth.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping

import pandas as pd

from qda.analysis.analysis_set import analysis_set_under_rules
from qda.analysis.exercises import (
    EXCERPT_COLUMNS,
    ONE_READING,
    CriteriaExercise,
    FixedUnitExercise,
    MemoExercise,
    OpenCoding,
    ReconciliationCase,
    ThemeExercise,
    UnitizingExercise,
    browse_excerpts,
    match_open_codes,
    memo_checklist,
    score_boundary_decisions,
    score_grouping,
    score_reconciliation,
    score_unitizing,
    unmatched_labels,
    word_spans,
    words_to_span,
)
from qda.errors import QDAError
from qda.study.model import Study

__all__ = [
    "EXCERPT_COLUMNS",
    "CodingExercise",
    "browse_excerpts",
    "cooccurrence_explorer",
    "criteria_widget",
    "excerpt_browser",
    "memo_widget",
    "open_coding_widget",
    "reconciliation_widget",
    "theme_widget",
    "unitizing_widget",
]


# ---------------------------------------------------------------------------
# (a) Code a passage yourself
# ---------------------------------------------------------------------------
class CodingExercise(FixedUnitExercise):
    """:class:`qda.analysis.exercises.FixedUnitExercise` with its widget (display only).

    The selection of passages and the scoring live in the analysis layer; this class
    adds :meth:`feedback_html` (the score as HTML) and :meth:`widget`.
    """

    def feedback_html(self, answers: Mapping[str, Iterable[str]]) -> str:
        """The score of ``answers`` as HTML: one sentence and the per-code table."""
        s = self.score(answers)
        kappa = "undefined" if pd.isna(s["kappa"]) else f"{s['kappa']:.2f}"
        share = "-" if pd.isna(s["percent_agreement"]) else f"{s['percent_agreement']:.0%}"
        head = (
            f"<p>{int(s['agreements'])} of {int(s['decisions'])} decisions agree with the team's reading "
            f"({share}); Cohen's kappa = {kappa}. You added {int(s['only_yours'])} code(s) the team did "
            f"not apply and left out {int(s['only_reference'])} it applied.</p>"
        )
        return head + self.per_code(answers).to_html() + f"<p><em>{html.escape(ONE_READING)}</em></p>"

    # -- the widget -----------------------------------------------------------
    def widget(self):
        """An ipywidgets view: each passage with a grid of code checkboxes, the score below, updated live."""
        import ipywidgets as w

        boxes: dict[str, dict[str, w.Checkbox]] = {}
        out = w.HTML()
        rows = [w.HTML("<p><em>Synthetic passages, invented for this book.</em></p>")]
        for unit in self.units.itertuples():
            boxes[unit.unit_id] = {
                c: w.Checkbox(value=False, description=c, indent=False, layout=w.Layout(width="210px"))
                for c in self.codes
            }
            rows.append(w.HTML(f"<b>{html.escape(unit.unit_id)}</b><blockquote>{html.escape(unit.text)}</blockquote>"))
            rows.append(
                w.GridBox(list(boxes[unit.unit_id].values()), layout=w.Layout(grid_template_columns="repeat(4, 220px)"))
            )

        def refresh(_=None):
            answers = {u: {c for c, b in bs.items() if b.value} for u, bs in boxes.items()}
            out.value = self.feedback_html(answers)

        for bs in boxes.values():
            for b in bs.values():
                b.observe(refresh, names="value")
        refresh()
        return w.VBox(rows + [out])


# ---------------------------------------------------------------------------
# (b) Excerpt browser (the selection is qda.analysis.exercises.browse_excerpts)
# ---------------------------------------------------------------------------
def _frame_html(frame: pd.DataFrame, caption: str) -> str:
    if frame.empty:
        return f"<p>{html.escape(caption)}: no passage matches these filters.</p>"
    return frame.style.hide(axis="index").set_caption(caption).to_html()


def excerpt_browser(study: Study, n: int = 3):
    """An ipywidgets excerpt browser over :func:`browse_excerpts` (dropdowns and a draw slider)."""
    import ipywidgets as w

    codes = ["(any)"] + sorted(study.codings["code"].astype(str).unique())
    names = dict(zip(study.themes["theme_name"].astype(str), study.themes["theme"].astype(int), strict=False))
    themes = ["(none)"] + sorted(names, key=names.get)
    genders = ["(any)"] + sorted(study.participants["gender"].astype(str).unique())
    stages = ["(any)"] + sorted(study.participants["career_stage"].astype(str).unique())
    dd = {
        name: w.Dropdown(options=opts, description=name)
        for name, opts in [("code", codes), ("theme", themes), ("gender", genders), ("stage", stages)]
    }
    seed = w.IntSlider(value=0, min=0, max=20, description="draw")
    out = w.HTML()

    def refresh(_=None):
        pick = {k: (None if str(v.value).startswith("(") else v.value) for k, v in dd.items()}
        try:
            frame = browse_excerpts(
                study,
                code=pick["code"],
                theme=names.get(pick["theme"]),
                gender=pick["gender"],
                career_stage=pick["stage"],
                n=n,
                seed=seed.value,
            )
            out.value = _frame_html(frame, "Synthetic passages")
        except QDAError as err:  # shown in the widget, not as a traceback
            out.value = f"<p>{html.escape(str(err))}</p>"

    for widget in [*dd.values(), seed]:
        widget.observe(refresh, names="value")
    refresh()
    return w.VBox([w.HBox(list(dd.values())[:2]), w.HBox(list(dd.values())[2:] + [seed]), out])


# ---------------------------------------------------------------------------
# (c) Co-occurrence rule explorer
# ---------------------------------------------------------------------------
def cooccurrence_explorer(study: Study):
    """An ipywidgets view: choose the co-occurrence rule and N, see the analysis set next to the overlap rule."""
    import ipywidgets as w

    rule = w.Dropdown(options=["overlap", "within", "same_turn"], value="within", description="rule")
    within = w.IntSlider(value=100, min=0, max=1000, step=50, description="within N")
    out = w.HTML()

    def refresh(_=None):
        within.disabled = rule.value != "within"
        rules = [("overlap", 0)] + ([] if rule.value == "overlap" else [(rule.value, within.value)])
        out.value = analysis_set_under_rules(study, rules).to_html()

    rule.observe(refresh, names="value")
    within.observe(refresh, names="value")
    refresh()
    return w.VBox([w.HBox([rule, within]), out])


# ---------------------------------------------------------------------------
# (d) The six craft exercises
# ---------------------------------------------------------------------------
def _html_table(frame: pd.DataFrame, caption: str) -> str:
    return frame.style.hide(axis="index").set_caption(html.escape(caption)).to_html()


def _passage(text: str, marks: Iterable[tuple[int, int]] = ()) -> str:
    """The passage as a blockquote, the given character spans highlighted."""
    out, pos = [], 0
    for a, b in sorted(marks):
        out += [html.escape(text[pos:a]), f"<mark>{html.escape(text[a:b])}</mark>"]
        pos = b
    return "<blockquote>" + "".join(out) + html.escape(text[pos:]) + "</blockquote>"


def _reading_note() -> str:
    return f"<p><em>{html.escape(ONE_READING)}</em></p>"


def open_coding_widget(exercise: OpenCoding):
    """Exercise 1: write your own codes (one per line), then compare them with the team's round-1 codes."""
    import ipywidgets as w

    box = w.Textarea(placeholder="one code per line: a short name, then what it captures", rows=6)
    button = w.Button(description="Compare with the team")
    out = w.HTML("<p>Write your codes, then press the button.</p>")

    def compare(_=None):
        labels = box.value.splitlines()
        touched = match_open_codes(exercise, labels)
        other = unmatched_labels(exercise, labels)
        team = exercise.team_codes[["code", "name", "captures"]].rename(
            columns={"code": "Code", "name": "Name", "captures": "What it captures (v1)"}
        )
        yours = touched.rename(columns={"code": "Team code", "your_labels": "Your labels that touch it"})
        out.value = (
            _html_table(team, "The team's round-1 codes of this answer")
            + _html_table(yours[["Team code", "Your labels that touch it"]], "Your codes beside them")
            + f"<p>Your codes the team did not have: {html.escape('; '.join(other) or 'none')}.</p>"
            + _reading_note()
        )

    button.on_click(compare)
    head = w.HTML(f"<b>{html.escape(exercise.unit_id)}</b> (synthetic)" + _passage(exercise.text))
    return w.VBox([head, box, button, out])


def criteria_widget(exercise: CriteriaExercise):
    """Exercise 2: write inclusion and exclusion criteria, decide each boundary passage, compare."""
    import ipywidgets as w

    inclusion = w.Textarea(placeholder="Apply the code when ...", rows=3, description="inclusion")
    exclusion = w.Textarea(placeholder="Do not apply it when ...", rows=3, description="exclusion")
    toggles = {
        u: w.ToggleButtons(options=["apply", "do not apply"], value=None, description=u)
        for u in exercise.boundary["unit_id"]
    }
    button = w.Button(description="Compare with v2")
    out = w.HTML()

    def compare(_=None):
        decided = {u: t.value == "apply" for u, t in toggles.items() if t.value is not None}
        scored = score_boundary_decisions(exercise, decided)
        crit = exercise.criteria.reset_index(names="field")[["field", "v1", "v2"]]
        out.value = (
            f"<p>{int(scored['agree'].sum())} of {len(scored)} of your decisions match the team's.</p>"
            + _html_table(crit, f"The criteria of {exercise.code}, v1 and v2")
            + _html_table(
                exercise.boundary[["unit_id", "resolution", "criterion"]], "What the team decided, and by which rule"
            )
            + _reading_note()
        )

    button.on_click(compare)
    rows = [w.HTML(f"<b>{html.escape(u)}</b>" + _passage(t)) for u, t in exercise.boundary[["unit_id", "text"]].values]
    return w.VBox(
        [inclusion, exclusion, *[x for pair in zip(rows, toggles.values(), strict=False) for x in pair], button, out]
    )


def unitizing_widget(exercise: UnitizingExercise):
    """Exercise 3: mark where the code starts and ends (in words); u-alpha against the team's span, live."""
    import ipywidgets as w

    n_words = len(word_spans(exercise.text))
    words = w.IntRangeSlider(value=(0, n_words - 1), min=0, max=n_words - 1, description="words")
    out = w.HTML()

    def refresh(_=None):
        span = words_to_span(exercise, *words.value)
        s = score_unitizing(exercise, [span])
        out.value = (
            _passage(exercise.text, [span])
            + f"<p>u-alpha with the team's span: {s['u_alpha']:.2f}. Characters in both: {s['chars_both']}; "
            f"yours only: {s['chars_only_yours']}; the team's only: {s['chars_only_team']}. "
            f"With the team's start u-alpha would be {s['alpha_start_fixed']:.2f}; "
            f"with the team's end, {s['alpha_end_fixed']:.2f}.</p>" + _reading_note()
        )

    words.observe(refresh, names="value")
    refresh()
    return w.VBox([w.HTML(f"<b>{html.escape(exercise.unit_id)}</b>, code {exercise.code}"), words, out])


def reconciliation_widget(case: ReconciliationCase):
    """Exercise 4: decide present or absent and justify it; then the team's note and criterion."""
    import ipywidgets as w

    decision = w.ToggleButtons(options=["present", "absent"], value=None, description="decision")
    why = w.Textarea(placeholder="Which words of the answer, and which criterion?", rows=3)
    button = w.Button(description="Show the team's note")
    out = w.HTML()

    def reveal(_=None):
        if decision.value is None:
            out.value = "<p>Decide first: present or absent.</p>"
            return
        s = score_reconciliation(case, decision.value)
        verdict = "the same as" if s["agree"] else "not the same as"
        out.value = (
            f"<p>Your decision, {s['yours']}, is {verdict} the team's ({s['team']}), "
            f"settled by {html.escape(s['criterion'] or 'no named criterion')}.</p>"
            f"<blockquote>{html.escape(case.note)}</blockquote>" + _reading_note()
        )

    button.on_click(reveal)
    who = _html_table(case.codings, f"Who applied {case.code} in round {case.round}")
    head = w.HTML(f"<b>{html.escape(case.unit_id)}</b>" + _passage(case.text) + who)
    return w.VBox([head, decision, why, button, out])


def memo_widget(exercise: MemoExercise):
    """Exercise 5: write a memo on the segments; check it against the prompts, then read the analyst's."""
    import ipywidgets as w

    box = w.Textarea(placeholder="Your memo", rows=10, layout=w.Layout(width="100%"))
    button = w.Button(description="Check and compare")
    out = w.HTML()

    def check(_=None):
        table = memo_checklist(box.value)
        out.value = (
            _html_table(table, "Your memo against the prompts")
            + f"<p>The analyst's memo ({html.escape(exercise.memo['memo_id'])}, "
            f"{html.escape(exercise.memo['coder'])}):</p><blockquote>{html.escape(exercise.memo['text'])}</blockquote>"
        )

    button.on_click(check)
    prompts = "<ol>" + "".join(f"<li>{html.escape(p)}</li>" for p in exercise.prompts) + "</ol>"
    segs = "".join(
        f"<b>{html.escape(i)}</b>" + _passage(t) for i, t in exercise.segments[["segment_id", "text"]].values
    )
    return w.VBox([w.HTML(segs + prompts), box, button, out])


def theme_widget(exercise: ThemeExercise):
    """Exercise 6: name a group for each segment and pick the negative case; then the team's grouping."""
    import ipywidgets as w

    labels = list(exercise.segments["label"])
    names = {k: w.Text(description=k, placeholder="group name") for k in labels}
    negative = w.Dropdown(options=["(none)"] + labels, description="negative")
    button = w.Button(description="Compare with the team")
    out = w.HTML()

    def compare(_=None):
        neg = None if negative.value == "(none)" else negative.value
        s = score_grouping(exercise, {k: t.value for k, t in names.items()}, neg)
        rand = "-" if pd.isna(s["rand"]) else f"{s['rand']:.2f}"
        team = exercise.segments[["label", "segment_id", "theme_name"]]
        out.value = (
            f"<p>You and the team agree on {s['pairs_agree']} of {s['pairs']} pairs (Rand index {rand}); "
            f"negative case {'found' if s['negative_found'] else 'not the same'}: "
            f"the team's is {exercise.negative}.</p>" + _html_table(team, "The team's grouping") + _reading_note()
        )

    button.on_click(compare)
    segs = [w.HTML(f"<b>{k}</b>" + _passage(t)) for k, t in exercise.segments[["label", "text"]].values]
    return w.VBox([*[x for pair in zip(segs, names.values(), strict=False) for x in pair], negative, button, out])
