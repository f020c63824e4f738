"""Fixtures: the SAM template as written and as the SAM translator expands it, offline."""

import sys
from pathlib import Path

import pytest

# The test modules import infra_support whatever pytest's import mode.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from infra_support import TEMPLATE, load_yaml, to_cloudformation  # noqa: E402


@pytest.fixture(scope="session")
def sam_template():
    return load_yaml(TEMPLATE)


@pytest.fixture(scope="session")
def cfn(sam_template):
    return to_cloudformation(sam_template)


@pytest.fixture(scope="session")
def resources(cfn):
    return cfn["Resources"]
