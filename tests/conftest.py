import sys
from pathlib import Path

import pytest

# the tests import their helpers (tests/reference.py) as top-level modules
sys.path.insert(0, str(Path(__file__).parent))


@pytest.hookimpl(trylast=True)  # after -m / -k have deselected what they deselect
def pytest_collection_modifyitems(config, items):
    """Run the Binder tests last, with their environment built in the background meanwhile.

    The build (a fresh environment compiling every kernel) takes minutes on one core; started
    now, it overlaps the rest of the suite instead of adding to it (see tests/test_binder.py).
    """
    binder = [item for item in items if item.get_closest_marker("binder")]
    if binder and not config.option.collectonly:
        items[:] = [item for item in items if not item.get_closest_marker("binder")] + binder
        from test_binder import start_build  # only when its tests are selected

        start_build()
