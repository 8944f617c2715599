"""``relcrm demo``: the whole story on a throwaway store and local CRM sandboxes.

The demo is a show, not a production path: it makes up people
(:mod:`relcrm.testing.synthetic`), tells their feedback through real formats
(:mod:`relcrm.demo.exports`), seeds CRM sandboxes (:mod:`relcrm.testing`) and runs the
real pipeline on them (:mod:`relcrm.demo.story`). It lives out of the production
packages so that ``import relcrm`` and ``relcrm sync`` never load it; the import-linter
contracts in ``pyproject.toml`` keep production from importing it. It may import
anything.
"""

from relcrm.demo.outreach import DemoTask
from relcrm.demo.story import CHANGED_VERBATIM, CrmDemo, DemoResult, run_demo

__all__ = ["CHANGED_VERBATIM", "CrmDemo", "DemoResult", "DemoTask", "run_demo"]
