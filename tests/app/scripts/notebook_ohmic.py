"""A notebook's use of ionslit: load a case, change a value, run it, read the results.

Usage: python notebook_ohmic.py RESULTS_DIR OVERRIDE; prints the numbers it read as JSON.
"""

import json
import sys
from pathlib import Path

import ionslit

directory, override = Path(sys.argv[1]), sys.argv[2]
case = ionslit.load_case(Path(__file__).resolve().parents[3] / "cases" / "ohmic_slit.toml",
                         overrides=[override])
results = ionslit.run(case, output=directory)
print(json.dumps({
    "status": results.status,
    "series": results.series.to_dict(orient="list"),
    "axis": results.profiles["axis"].to_dict(orient="list"),
}))
