"""pyproject.toml and environment.yml must list the same packages with the same lower bounds.

Conda cannot run on the machines that test mflab, so this is the check that the conda route in the
README installs what pip installs: the runtime dependencies plus the ``test`` and ``lab`` extras.
"""
import copy
import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
# conda-forge names that differ from the PyPI name of the same package.
CONDA_TO_PYPI = {"matplotlib-base": "matplotlib", "pytables": "tables", "python-build": "build"}
NOT_PACKAGES = {"pip"}  # installs the pip section; has no PyPI counterpart in pyproject
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*([^;]*)")


def normalise(name: str) -> str:
    """PEP 503 form: lower case, runs of '-', '_', '.' become one '-'."""
    return re.sub(r"[-_.]+", "-", name).lower()


def split_requirement(text: str) -> tuple[str, str]:
    """``"NumPy >= 1.26"`` -> ``("numpy", ">=1.26")``; extras and markers are dropped."""
    match = _REQUIREMENT.match(text)
    if not match:
        raise ValueError(f"cannot read the requirement {text!r}")
    return normalise(match.group(1)), re.sub(r"\s+", "", match.group(3))


def pip_requirements(pyproject: dict) -> dict[str, str]:
    """Name -> version spec of the runtime dependencies and every extra, plus ``python``."""
    project = pyproject["project"]
    lines = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        lines += extra
    found = dict(split_requirement(line) for line in lines)
    found.pop("mflab", None)  # an extra may name the package itself
    found["python"] = re.sub(r"\s+", "", project.get("requires-python", ""))
    return found


def conda_requirements(env: dict) -> dict[str, str]:
    """Name -> version spec of the conda packages and the pip section (minus the project itself)."""
    found = {}
    for entry in env.get("dependencies", []):
        if isinstance(entry, dict):
            lines = [line for line in entry.get("pip", []) if not line.lstrip().startswith("-")]
        else:
            lines = [entry]
        for line in lines:
            name, spec = split_requirement(line)
            found[normalise(CONDA_TO_PYPI.get(name, name))] = spec
    for name in NOT_PACKAGES:
        found.pop(name, None)
    return found


def compare(pyproject: dict, env: dict) -> list[str]:
    """Every disagreement between the two files, one readable line each; empty when they agree."""
    pip, conda = pip_requirements(pyproject), conda_requirements(env)
    problems = [f"{name} is in pyproject.toml ({pip[name] or 'any version'}) but not in environment.yml"
                for name in sorted(pip.keys() - conda.keys())]
    problems += [f"{name} is in environment.yml ({conda[name] or 'any version'}) but not in pyproject.toml"
                 for name in sorted(conda.keys() - pip.keys())]
    problems += [f"{name}: pyproject.toml says {pip[name] or 'any version'!r}, "
                 f"environment.yml says {conda[name] or 'any version'!r}"
                 for name in sorted(pip.keys() & conda.keys()) if pip[name] != conda[name]]
    return problems


def load():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    return pyproject, env


# --------------------------------------------------------------------------- the real files
def test_pyproject_and_environment_yml_agree():
    problems = compare(*load())
    assert not problems, "\n".join(problems)


def test_environment_yml_uses_conda_forge_and_installs_mflab_editable():
    _, env = load()
    assert env["name"] == "mflab"
    assert env["channels"] == ["conda-forge"]
    pip_section = next(e["pip"] for e in env["dependencies"] if isinstance(e, dict))
    assert "-e ." in [line.strip() for line in pip_section]


def test_every_extra_the_makefile_installs_exists():
    pyproject, _ = load()
    assert {"test", "lab", "spark", "demo"} <= pyproject["project"]["optional-dependencies"].keys()


# --------------------------------------------------------------------------- the checker itself
def test_checker_fails_when_pyproject_gains_a_dependency():
    pyproject, env = load()
    changed = copy.deepcopy(pyproject)
    changed["project"]["dependencies"].append("scipy>=1.11")
    assert compare(changed, env) == ["scipy is in pyproject.toml (>=1.11) but not in environment.yml"]


def test_checker_fails_when_an_extra_gains_a_dependency():
    pyproject, env = load()
    changed = copy.deepcopy(pyproject)
    changed["project"]["optional-dependencies"]["lab"].append("ipyleaflet")
    assert compare(changed, env) == ["ipyleaflet is in pyproject.toml (any version) but not in environment.yml"]


def test_checker_fails_when_environment_yml_gains_a_dependency():
    pyproject, env = load()
    changed = copy.deepcopy(env)
    changed["dependencies"].insert(2, "scikit-learn>=1.4")
    assert compare(pyproject, changed) == [
        "scikit-learn is in environment.yml (>=1.4) but not in pyproject.toml"]
    changed = copy.deepcopy(env)
    next(e for e in changed["dependencies"] if isinstance(e, dict))["pip"].append("tqdm")
    assert compare(pyproject, changed) == ["tqdm is in environment.yml (any version) but not in pyproject.toml"]


def test_checker_fails_when_a_bound_differs():
    pyproject, env = load()
    changed = copy.deepcopy(env)
    changed["dependencies"] = [("numpy>=2.0" if d == "numpy>=1.26" else d) for d in env["dependencies"]]
    assert compare(pyproject, changed) == [
        "numpy: pyproject.toml says '>=1.26', environment.yml says '>=2.0'"]
    changed = copy.deepcopy(pyproject)
    changed["project"]["requires-python"] = ">=3.10"
    assert compare(changed, env) == ["python: pyproject.toml says '>=3.10', environment.yml says '>=3.11'"]


def test_checker_ignores_spelling_differences_of_one_package():
    pyproject = {"project": {"dependencies": ["PyYAML >= 6.0", "matplotlib>=3.8"],
                             "requires-python": ">=3.11"}}
    env = {"dependencies": ["python >=3.11", "pip", "pyyaml>=6.0", "matplotlib-base >=3.8",
                            {"pip": ["-e ."]}]}
    assert compare(pyproject, env) == []


# --------------------------------------------------------------------------- constraints.txt
def pinned(text: str) -> dict[str, str]:
    """``name -> version`` of every ``name==version`` line of a pip constraints file."""
    found = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            if not sep:
                raise ValueError(f"constraints.txt pins exact versions only; got {line!r}")
            found[normalise(name)] = version.strip()
    return found


def constraint_problems(pyproject: dict, pins: dict[str, str]) -> list[str]:
    """Every dependency the lock leaves out, or pins outside pyproject.toml's range."""
    from packaging.specifiers import SpecifierSet

    wanted = pip_requirements(pyproject)
    wanted.pop("python")
    problems = [f"{name} ({spec or 'any version'}) is not pinned in constraints.txt"
                for name, spec in sorted(wanted.items()) if name not in pins and name != "setuptools"]
    problems += [f"constraints.txt pins {name}=={pins[name]}, outside pyproject.toml's {spec!r}"
                 for name, spec in sorted(wanted.items())
                 if name in pins and spec and pins[name] not in SpecifierSet(spec)]
    return problems


def test_constraints_pin_every_dependency_inside_its_range():
    pyproject, _ = load()
    pins = pinned((ROOT / "constraints.txt").read_text())
    assert not constraint_problems(pyproject, pins), "\n".join(constraint_problems(pyproject, pins))
    assert "mflab" not in pins  # the project itself is installed from the checkout


def test_constraint_checker_catches_a_missing_or_out_of_range_pin():
    pyproject, _ = load()
    pins = pinned((ROOT / "constraints.txt").read_text())
    assert constraint_problems(pyproject, {k: v for k, v in pins.items() if k != "numba"}) == [
        "numba (>=0.60) is not pinned in constraints.txt"]
    assert constraint_problems(pyproject, dict(pins, numpy="1.25.0")) == [
        "constraints.txt pins numpy==1.25.0, outside pyproject.toml's '>=1.26'"]
    with pytest.raises(ValueError, match="exact versions"):
        pinned("numpy>=2\n")
