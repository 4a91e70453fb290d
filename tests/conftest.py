import pytest

from toolkit.formats import load_format


@pytest.fixture(params=["2021", "2019"])
def fmt(request):
    """Each official format in turn."""
    return load_format(request.param)
