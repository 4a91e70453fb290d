"""Fonts that draw Chinese, for the charts (``nianbao history --chart``).

Found without trusting matplotlib's font cache, which may have been built before the fonts were
installed: fontconfig's list, else the usual font folders, else the Noto Sans CJK that the
``manimgx-fonts-cjk`` dependency ships (SIL Open Font License 1.1), so a fresh install draws
Chinese on a machine that has no Chinese font. Never a package of proprietary fonts.
"""

from __future__ import annotations

from pathlib import Path

# font files that draw Chinese, best first (file names are stable where font caches are not)
CJK_FONT_FILES = ("NotoSansCJK-Regular", "NotoSansCJKsc-Regular", "NotoSansSC-Regular", "SourceHanSansSC-Regular",
                  "SourceHanSans-Regular", "NotoSansCJK", "NotoSansSC", "SourceHanSans", "wqy-microhei", "wqy-zenhei",
                  "DroidSansFallback", "NotoSerifCJK", "SourceHanSerif", "msyh", "simhei", "PingFang", "STHeiti")
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts",
             "/Library/Fonts", "/System/Library/Fonts", "~/Library/Fonts", "C:/Windows/Fonts")
FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")
BUNDLED_FONT_PACKAGE = "manimgx_fonts_cjk"  # Noto Sans CJK (SIL OFL 1.1), a dependency: pyproject.toml
SAMPLE_CHINESE = "表申请办理结果年"


def _font_rank(path: Path) -> tuple[int, int, str]:
    name = path.name.lower()
    rank = next((i for i, stem in enumerate(CJK_FONT_FILES) if name.startswith(stem.lower())), len(CJK_FONT_FILES))
    return rank, 0 if "regular" in name or "medium" not in name and "bold" not in name else 1, name


def system_cjk_fonts() -> list[Path]:
    """Font files on this machine that draw Chinese, best first, found without matplotlib's
    font cache (which may predate the fonts): fontconfig's ``fc-list :lang=zh file``, else the
    usual font folders scanned for known Chinese font files."""
    import shutil
    import subprocess

    found: set[Path] = set()
    if shutil.which("fc-list"):
        try:
            out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=20).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        for line in out.splitlines():
            path = Path(line.strip().rstrip(":").strip())
            if path.suffix.lower() in FONT_SUFFIXES and path.is_file():
                found.add(path)
    if not found:
        stems = tuple(stem.lower() for stem in CJK_FONT_FILES)
        for folder in FONT_DIRS:
            root = Path(folder).expanduser()
            if not root.is_dir():
                continue
            for path in root.rglob("*"):
                if path.suffix.lower() in FONT_SUFFIXES and path.name.lower().startswith(stems):
                    found.add(path)
    return sorted(found, key=_font_rank)


def bundled_cjk_font() -> Path | None:
    """The Noto Sans CJK file of the font package the toolkit depends on, if installed."""
    import importlib.util

    spec = importlib.util.find_spec(BUNDLED_FONT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        for path in sorted(Path(folder).iterdir()):
            if path.suffix.lower() in FONT_SUFFIXES:
                return path
    return None


def _draws_chinese(path: Path) -> bool:
    from matplotlib.ft2font import FT2Font

    try:
        font = FT2Font(str(path))
    except (OSError, RuntimeError, ValueError):
        return False
    return all(font.get_char_index(ord(c)) for c in SAMPLE_CHINESE)


def find_cjk_font() -> str | None:
    """Path of a font file that draws Chinese: the machine's own (Noto Sans CJK preferred), else
    the bundled Noto Sans CJK; None when there is neither."""
    for path in [*system_cjk_fonts(), bundled_cjk_font()]:
        if path is not None and _draws_chinese(path):
            return str(path)
    return None


def chart_font(text: str) -> str | None:
    """The font file to draw ``text`` with (:func:`find_cjk_font`). The bundled font is variable,
    and matplotlib would draw its default instance (Thin): it is cut down to the characters of
    ``text`` at regular weight (about 2 s, kept in the temporary folder), or used as it is when
    that fails."""
    path = find_cjk_font()
    bundled = bundled_cjk_font()
    if path is None or bundled is None or Path(path) != bundled:
        return path
    try:
        return str(regular_subset(bundled, text))
    except Exception:  # noqa: BLE001 - an older fontTools: the thin instance still draws Chinese
        return path


def regular_subset(path: Path, text: str, face: str = "Noto Sans CJK SC") -> Path:
    """A static font with only the glyphs of ``text`` (and ASCII) from ``face`` of the variable
    font collection ``path``, at weight 400, under a family name of its own (so two charts with
    different texts never pick up each other's subset)."""
    import hashlib
    import os
    import tempfile

    from fontTools import subset
    from fontTools.ttLib import TTCollection, TTFont
    from fontTools.varLib import instancer

    chars = "".join(sorted(set(text) | {chr(c) for c in range(32, 127)}))
    digest = hashlib.sha1(f"{path}|{path.stat().st_size}|{face}|{chars}".encode("utf-8")).hexdigest()[:12]
    target = Path(tempfile.gettempdir()) / "nianbao-fonts" / f"{digest}.otf"
    if target.is_file():
        return target
    names = [f["name"].getDebugName(1) for f in TTCollection(str(path), lazy=True).fonts]
    font = TTFont(str(path), fontNumber=names.index(face) if face in names else 0)
    options = subset.Options()
    options.layout_features = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=chars)
    subsetter.subset(font)
    if "fvar" in font:
        font = instancer.instantiateVariableFont(font, {"wght": 400})
    family = f"{face} {digest}"
    for record in list(font["name"].names):
        if record.nameID in (1, 4, 6, 16, 17, 21, 22):
            font["name"].removeNames(nameID=record.nameID)
    font["name"].setName(family, 1, 3, 1, 0x409)
    font["name"].setName("Regular", 2, 3, 1, 0x409)
    font["name"].setName(family, 4, 3, 1, 0x409)
    font["name"].setName(family.replace(" ", ""), 6, 3, 1, 0x409)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.stem}.{os.getpid()}.tmp")
    font.save(str(partial))
    os.replace(partial, target)
    return target


def use_cjk_font(font_path: str) -> str:
    """Register ``font_path`` with matplotlib (whatever its cache holds) and return the family
    to draw Chinese with (the Simplified Chinese face of a collection). A variable font (the
    bundled one) is also listed at normal weight, so matplotlib uses it without complaint."""
    from matplotlib import font_manager

    import dataclasses

    manager = font_manager.fontManager
    manager.addfont(font_path)
    entries = [f for f in manager.ttflist if f.fname == font_path]
    if entries and all(f.weight != 400 for f in entries):  # a variable font named after its Thin instance
        manager.ttflist.extend(dataclasses.replace(f, weight=400) for f in entries)
        clear = getattr(getattr(manager, "_findfont_cached", None), "cache_clear", None)
        if clear:
            clear()
    names = sorted({f.name for f in entries})
    for suffix in (" SC", " CN", "SC", ""):
        for name in names:
            if name.endswith(suffix):
                return name
    return font_manager.FontProperties(fname=font_path).get_name()
