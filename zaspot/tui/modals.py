"""The confirmation modal every action goes through (station actions and the card form)."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select

from zaspot.tui.actions import Action, arguments

Options = dict[str, list[tuple[str, Any]]]  # field name -> (label, value) for its `pick`


class ConfirmAction(ModalScreen[dict[str, Any] | None]):
    """Dismissed with the command's arguments, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [("escape", "cancel", "Cancel")]

    def __init__(self, action: Action, station_id: str, answers: dict[str, str], options: Options | None = None,
                 question: str | None = None) -> None:
        super().__init__()
        self.action_, self.station_id, self.answers = action, station_id, answers
        self.options = options or {}
        self.question = question or f"{action.title} on [b]{station_id}[/b]?"

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="danger" if self.action_.danger else ""):
            yield Label(self.question, id="question")
            for f in self.action_.fields:
                yield Label(f.label, classes="field-label")
                if f.kind in ("choice", "switch"):
                    yield Select([(c, c) for c in f.choices], value=self.answers.get(f.name) or f.choices[0],
                                 allow_blank=False, id=f"field-{f.name}")
                elif f.kind == "pick":
                    options = self.options.get(f.name, [])
                    yield Select(options, value=options[0][1] if options else Select.NULL,
                                 allow_blank=not options, id=f"field-{f.name}")
                else:
                    yield Input(self.answers.get(f.name, ""), id=f"field-{f.name}")
            yield Label("", id="error")
            with Horizontal(id="buttons"):
                yield Button("Confirm", variant="error" if self.action_.danger else "primary", id="confirm")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        first = self.query("Input, Select").first() if self.action_.fields else self.query_one("#confirm")
        first.focus()

    def _answers(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in self.action_.fields:
            value = self.query_one(f"#field-{f.name}").value  # type: ignore[attr-defined]
            out[f.name] = None if value is Select.NULL else value if f.kind == "pick" else str(value)
        return out

    @on(Button.Pressed, "#confirm")
    @on(Input.Submitted)
    def confirm(self) -> None:
        try:
            self.dismiss(arguments(self.action_, self._answers()))
        except ValueError as exc:
            self.query_one("#error", Label).update(str(exc))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
