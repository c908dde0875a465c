"""docs/tutorial.ipynb runs from top to bottom (nbclient, a real kernel, virtual-time runs)
and is committed without outputs."""

import json
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "tutorial.ipynb"


def test_the_tutorial_is_committed_without_outputs():
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    assert all(
        not c.get("outputs") and not c.get("execution_count")
        for c in cells
        if c["cell_type"] == "code"
    )


def test_the_tutorial_runs(tmp_path):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = json.dumps([o.get("data", o.get("text", "")) for o in outputs])
    assert "distributed" in text and "centralized" in text and "image/png" in text
