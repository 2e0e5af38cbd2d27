#!/usr/bin/env python3
"""Python baseline for bench/parse-vs-python: the weapon pages of a site mirror -> NDJSON records.

Extracts the same fields as the Rust parser (mhfz-record's WeaponRecord) with BeautifulSoup on
Python's built-in `html.parser` backend. It is meant to be a fair baseline: it only builds the
tree of the weapon table (SoupStrainer), decodes UTF-8 itself instead of sniffing, and walks
cells child by child instead of running CSS selectors per field.

It also works around a quadratic slowdown in bs4's html.parser builder (4.12 and 4.13 alike):
every void tag (`<br>`, `<hr>`, ...) is appended to a list that each end tag then searches
linearly, so a 3 MB page with 100k `<br>` takes ~30 s instead of ~3 s. Tracking those tags in a
counter instead keeps the parse linear without changing the tree it builds.

    parse_bs4.py --site MIRROR_DIR --classes great_sword,bow --out records.ndjson

Prints one `page<TAB>records<TAB>rejects` line per page on stderr when --counts is given.
"""

import argparse
import collections
import json
import re
import sys
from pathlib import Path

from bs4 import BeautifulSoup, NavigableString, SoupStrainer, Tag
from bs4.builder import HTMLParserTreeBuilder
from bs4.builder._htmlparser import BeautifulSoupHTMLParser

# Class id -> page file stem (mhfz-record's WeaponClass).
CLASS_STEMS = {
    "great_sword": "taiken",
    "long_sword": "tachi",
    "sword_and_shield": "katate",
    "dual_swords": "souken",
    "hammer": "hammer",
    "hunting_horn": "horn",
    "lance": "lance",
    "gunlance": "gunlance",
    "tonfa": "tonfa",
    "switch_axe_f": "slaxe",
    "magnet_spike": "magspike",
    "light_bowgun": "right",
    "heavy_bowgun": "heavy",
    "bow": "yumi",
}
STEM_CLASSES = {stem: cls for cls, stem in CLASS_STEMS.items()}
# Variant id -> page suffix, in scrape order (tower `_t` pages are not weapon rows).
VARIANTS = [("base", ""), ("g", "_g"), ("s", "_s"), ("sp", "_sp"), ("n", "_n")]

ATTRIBUTE_IDS = {
    "Fire": "fire", "Water": "water", "Thunder": "thunder", "Ice": "ice", "Dragon": "dragon",
    "Poison": "poison", "Para": "paralysis", "Paralysis": "paralysis", "Sleep": "sleep",
    "Blast": "blast", "爆破": "blast", "Blaze": "blaze", "Light": "light",
    "Thunder Pole": "thunder_pole", "Tenshou": "tenshou", "Okiko": "okiko",
    "Black Flame": "black_flame", "Crimson Demon": "crimson_demon", "Darkness": "darkness",
    "Music": "music", "Sound": "sound", "Wind": "wind", "Burning Zero": "burning_zero",
    "Emperor's Roar": "emperors_roar", "Defense": "defense", "Def": "defense",
}
SHARPNESS = {"r": "red", "o": "orange", "y": "yellow", "g": "green", "b": "blue",
             "w": "white", "p": "purple", "s": "sky"}
RANKS = {"HR": "hr", "GR": "gr", "SR": "sr", "GSR": "gsr"}
ARC_SHOTS = {"Wide", "Narrow", "Slicing", "Bomb"}
NONE_WORDS = {"", "-", "なし", "None"}
ASCII_SPACE = " \t\r\n\f"

ATTACK_RE = re.compile(r"^(\d+)\s+(-?\d+)%$")
ATTRIBUTE_RE = re.compile(r"^(.+?)\s+([+-]?\d+)$")
QUANTITY_RE = re.compile(r"^x(\d+)")
CHARGE_RE = re.compile(r"^(\d+):(.+)$")
SAFE_ID_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


class _ClosedVoidTags(collections.Counter):
    """Drop-in for the parser's `already_closed_empty_element` list with O(1) membership."""

    def append(self, tag):
        self[tag] += 1

    def remove(self, tag):
        self[tag] -= 1
        if self[tag] <= 0:
            del self[tag]


class _LinearHTMLParser(BeautifulSoupHTMLParser):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.already_closed_empty_element = _ClosedVoidTags()


class LinearHTMLParserTreeBuilder(HTMLParserTreeBuilder):
    """bs4's `html.parser` builder, minus the quadratic void-tag bookkeeping."""

    def feed(self, markup):
        super().feed(markup, _parser_class=_LinearHTMLParser)


class RowError(Exception):
    """A data row that does not parse; the rest of the page is still used."""


def lines(cell, breaks=("br",)):
    """The cell's text split at <br> (and other `breaks` tags, nested ones too).

    Lines lose ASCII white space at their ends only: a leading ideographic space (U+3000) is
    part of the text, e.g. an indented second line of a description.
    """
    out, current = [], []
    for node in cell.descendants:
        if isinstance(node, NavigableString):
            current.append(str(node))
        elif node.name in breaks:
            out.append("".join(current).strip(ASCII_SPACE))
            current = []
    out.append("".join(current).strip(ASCII_SPACE))
    return out


def parse_int(text, what):
    try:
        return int(text)
    except ValueError:
        raise RowError(f"{what}: {text!r} is not a number") from None


def parse_name_cell(cell):
    name_parts, notes, level, upgrade_from, upgrade_to = [], [], None, [], []
    for node in cell.children:
        if isinstance(node, NavigableString):
            name_parts.append(str(node))
        elif node.name == "b":
            text = node.get_text().strip()
            if text.startswith("Lv"):
                level = parse_int(text[2:], "level")
            else:
                notes.append(text)
        elif node.name == "div":
            for link in node.find_all("a"):
                text = link.get_text().strip("\u3000 ")
                target_page, _, row_id = link.get("href", "").partition("#")
                tree_link = {"name": text.strip("←→"), "page": target_page or None,
                             "site_row_id": row_id}
                if text.endswith("←"):
                    upgrade_from.append(tree_link)
                else:
                    upgrade_to.append(tree_link)
        else:
            text = node.get_text().strip()
            if text:
                notes.append(text)
    name = "".join(name_parts).strip()
    if not name:
        raise RowError("empty name")
    return name, notes, level, upgrade_from, upgrade_to


def parse_rarity_cell(cell):
    # `12<b>GR</b>1`: rarity 12, G-rank requirement 1.
    parts = [str(n).strip() if isinstance(n, NavigableString) else n.get_text().strip()
             for n in cell.children]
    rarity = parse_int(parts[0], "rarity")
    if not 1 <= rarity <= 12:
        raise RowError(f"rarity {rarity} outside 1..=12")
    gr = parse_int(parts[2], "GR requirement") if len(parts) >= 3 and parts[1] == "GR" else None
    return rarity, gr


def parse_attack_cell(cell, is_bow):
    cell_lines = [line for line in lines(cell) if line]
    if not cell_lines:
        raise RowError("empty attack cell")
    match = ATTACK_RE.match(cell_lines[0])
    if not match:
        raise RowError(f"attack line {cell_lines[0]!r}")
    attack, affinity = int(match.group(1)), int(match.group(2))
    if not -100 <= affinity <= 100:
        raise RowError(f"affinity {affinity}% outside ±100")
    attributes, unknown, arc_shot = [], [], None
    for line in cell_lines[1:]:
        if is_bow and line in ARC_SHOTS:
            arc_shot = line
            continue
        match = ATTRIBUTE_RE.match(line)
        if match:
            label = match.group(1).strip()
            attributes.append({"kind": ATTRIBUTE_IDS.get(label, label),
                               "value": int(match.group(2))})
        else:
            unknown.append(line)
    return attack, affinity, attributes, unknown, arc_shot


def cell_remarks(cell, tags):
    """Remarks a stat cell carries besides its values (`<small>Length：Long</small>`, ...)."""
    return [node.get_text().strip() for node in cell.children
            if isinstance(node, Tag) and node.name in tags]


def parse_sharpness_cell(cell):
    bars = []
    for bar in cell.find_all("ul", recursive=False):
        segments = []
        for item in bar.find_all("li"):
            classes = item.get("class") or []
            if len(classes) != 2 or classes[0] not in SHARPNESS or not classes[1].startswith("s"):
                raise RowError(f"sharpness segment {classes!r}")
            segments.append({"colour": SHARPNESS[classes[0]],
                             "width": parse_int(classes[1][1:], "sharpness width")})
        bars.append(segments)
    if len(bars) != 2:
        raise RowError(f"{len(bars)} sharpness bars, expected 2")
    return {"base": bars[0], "max": bars[1]}


def parse_rank_cell(cell):
    cell_lines = lines(cell)
    rank = RANKS.get(cell_lines[0])
    if rank is None:
        return None
    level = cell_lines[1] if len(cell_lines) > 1 else ""
    return {"rank": rank, "level": parse_int(level, "rank level") if level else None}


def parse_price_cell(cell):
    # `1740<hr>なし`, `N<hr>M<br>Festival`, `N<br>Gacha`.
    cell_lines = lines(cell, breaks=("br", "hr"))
    price = parse_int(cell_lines[0], "price") if cell_lines[0] else None
    rest = cell_lines[1:]
    upgrade_price = None
    if cell.find("hr", recursive=False) is not None and rest:
        # `<hr>なし` / `<hr>None`: no upgrade price, nothing to note.
        upgrade = rest.pop(0)
        if upgrade.isdigit():
            upgrade_price = int(upgrade)
        elif upgrade not in NONE_WORDS:
            rest.insert(0, upgrade)
    note = "\n".join(line for line in rest if line) or None
    return price, upgrade_price, note


def parse_materials_cell(cell):
    recipes, recipe, note_lines, last_material = [], [], [], None
    for node in cell.children:
        if isinstance(node, Tag):
            if node.name == "a":
                item_id = node.get("href", "").partition("?")[2] or None
                last_material = {"item": node.get_text().strip(), "quantity": 1,
                                 "item_id": item_id}
                recipe.append(last_material)
            elif node.name != "br":
                note_lines.append(node.get_text().strip())
            continue
        text = str(node).strip()
        if not text:
            continue
        match = QUANTITY_RE.match(text) if last_material is not None else None
        if match:
            last_material["quantity"] = int(match.group(1))
            last_material = None
        elif text == "or":
            recipes.append(recipe)
            recipe = []
        else:
            note_lines.append(text)
    if recipe:
        recipes.append(recipe)
    note = "\n".join(line for line in note_lines if line) or None
    return {"recipes": recipes, "note": note}


def parse_gunner_cells(stats_cell, ammo_cell):
    stats = lines(stats_cell)
    if len(stats) != 3:
        raise RowError(f"reload/recoil/bullet speed cell has {len(stats)} lines")
    ammo = []
    for item in ammo_cell.find_all("li"):
        # Mark underlined levels with \0 so the line can be split as text.
        line = []
        for node in item.children:
            if isinstance(node, NavigableString):
                line.append(str(node))
            elif node.name == "br":
                ammo.extend(parse_ammo_line("".join(line)))
                line = []
            elif node.name == "u":
                line.append("\0" + node.get_text())
        ammo.extend(parse_ammo_line("".join(line)))
    return {"reload": stats[0], "recoil": stats[1], "bullet_speed": stats[2], "ammo": ammo}


def parse_ammo_line(line):
    if not line.strip():
        return []
    name, sep, levels = line.partition("：")
    if not sep:
        raise RowError(f"ammo line {line!r}")
    parsed = []
    for level in levels.split("/"):
        value = level.replace("\0", "").strip()
        parsed.append({"capacity": None if value in ("-", "") else parse_int(value, "ammo"),
                       "underlined": "\0" in level})
    return [{"name": name.strip(), "levels": parsed}]


def parse_bow_cells(charge_cell, coating_cell, arc_shot):
    stages, current = [], []

    def flush(text, italic):
        text = text.strip()
        if text:
            match = CHARGE_RE.match(text)
            if not match:
                raise RowError(f"charge stage {text!r}")
            stages.append({"stage": int(match.group(1)), "shot": match.group(2),
                           "italic": italic})

    for node in charge_cell.children:
        if isinstance(node, NavigableString):
            current.append(str(node))
            continue
        flush("".join(current), False)
        current = []
        if node.name == "i":
            flush(node.get_text(), True)
    flush("".join(current), False)
    coatings = [line for line in lines(coating_cell) if line]
    return {"arc_shot": arc_shot, "charge_stages": stages, "coatings": coatings}


def weapon_id(class_id, variant, row_id, disambiguator):
    base = f"{class_id}:{variant}:{row_id}"
    if disambiguator is None:
        return base
    encoded = "".join(chr(b) if b in SAFE_ID_BYTES else f"%{b:02X}"
                      for b in disambiguator.encode())
    return f"{base}:{encoded}"


def parse_row(row, class_id, variant, layout):
    cells = row.find_all("td", recursive=False)
    expected = 10 if layout == "blademaster" else 11
    if len(cells) != expected:
        raise RowError(f"{len(cells)} cells, expected {expected}")
    row_id = cells[0].get("id")
    if not row_id:
        raise RowError("name cell without id")
    name, notes, level, upgrade_from, upgrade_to = parse_name_cell(cells[0])
    rarity, gr = parse_rarity_cell(cells[1])
    attack, affinity, attributes, unknown, arc_shot = parse_attack_cell(cells[2], layout == "bow")
    sharpness = gunner = bow = None
    if layout == "blademaster":
        sharpness = parse_sharpness_cell(cells[3])
        extra_notes = cell_remarks(cells[3], ("small", "q"))
        rest = cells[4:]
    elif layout == "bowgun":
        gunner = parse_gunner_cells(cells[3], cells[4])
        extra_notes = cell_remarks(cells[4], ("small", "q", "i"))
        rest = cells[5:]
    else:
        bow = parse_bow_cells(cells[3], cells[4], arc_shot)
        extra_notes = cell_remarks(cells[3], ("small", "q")) + cell_remarks(cells[4], ("small", "q"))
        rest = cells[5:]
    slots_cell, rank_cell, price_cell, creation_cell, upgrade_cell, description_cell = rest
    price, upgrade_price, price_note = parse_price_cell(price_cell)
    return {
        "weapon_id": None,  # filled in once the page's repeated row ids are known
        "class": class_id,
        "variant": variant,
        "site_row_id": row_id,
        "name": name,
        "name_notes": notes,
        "level": level,
        "hidden": "display:none" in (row.get("style") or "").replace(" ", ""),
        "rarity": rarity,
        "gr_requirement": gr,
        "attack": attack,
        "affinity": affinity,
        "attributes": attributes,
        "unknown_attribute_lines": unknown,
        "sharpness": sharpness,
        "slots": parse_int(slots_cell.get_text().strip(), "slots"),
        "rank_requirement": parse_rank_cell(rank_cell),
        "price": price,
        "upgrade_price": upgrade_price,
        "price_note": price_note,
        "creation_materials": parse_materials_cell(creation_cell),
        "upgrade_materials": parse_materials_cell(upgrade_cell),
        "upgrade_from": upgrade_from,
        "upgrade_to": upgrade_to,
        "description": "\n".join(lines(description_cell)).strip(),
        "gunner": gunner,
        "bow": bow,
        "extra_notes": extra_notes,
    }


def page_layout(table):
    header = [th.get_text(" ", strip=True) for th in table.thead.find_all("th")]
    if not header or header[0] != "Name":
        return None
    if "Sharpness" in header:
        return "blademaster"
    if "Ammo" in header:
        return "bowgun"
    if "Charge Stage" in header:
        return "bow"
    return None


def parse_page(html, class_id, variant):
    """Returns (records, rejects) of one page; rejects are (row number, error) pairs."""
    soup = BeautifulSoup(html, builder=LinearHTMLParserTreeBuilder(),
                         parse_only=SoupStrainer("table"))
    table = soup.find("table")
    if table is None or table.thead is None:
        return [], []
    layout = page_layout(table)
    if layout is None:
        return [], []
    records, rejects = [], []
    body = table.tbody or table
    for number, row in enumerate(body.find_all("tr", recursive=False), start=1):
        try:
            records.append(parse_row(row, class_id, variant, layout))
        except (RowError, IndexError, ValueError, AttributeError) as error:
            rejects.append((number, str(error)))
    seen = {}
    for record in records:
        seen[record["site_row_id"]] = seen.get(record["site_row_id"], 0) + 1
    for record in records:
        repeated = seen[record["site_row_id"]] > 1
        record["weapon_id"] = weapon_id(class_id, variant, record["site_row_id"],
                                        record["name"] if repeated else None)
    return records, rejects


def class_ids(spec):
    ids = []
    for item in spec.split(","):
        item = item.strip()
        if item in CLASS_STEMS:
            ids.append(item)
        elif item in STEM_CLASSES:
            ids.append(STEM_CLASSES[item])
        elif item:
            raise SystemExit(f"parse_bs4: unknown weapon class {item!r}")
    return ids


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", required=True, type=Path, help="mirror directory (buki/)")
    parser.add_argument("--classes", required=True, help="comma-separated class ids or page stems")
    parser.add_argument("--out", required=True, help="NDJSON output file ('-' for stdout)")
    parser.add_argument("--counts", action="store_true",
                        help="print page<TAB>records<TAB>rejects lines on stderr")
    args = parser.parse_args()

    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")
    total = 0
    with out:
        for class_id in class_ids(args.classes):
            for variant, suffix in VARIANTS:
                page = f"{CLASS_STEMS[class_id]}{suffix}.htm"
                path = args.site / page
                if not path.exists():
                    continue
                records, rejects = parse_page(path.read_bytes().decode("utf-8"), class_id, variant)
                for record in records:
                    out.write(json.dumps(record, ensure_ascii=False))
                    out.write("\n")
                total += len(records)
                if args.counts:
                    print(f"{page}\t{len(records)}\t{len(rejects)}", file=sys.stderr)
                for number, error in rejects:
                    print(f"parse_bs4: {page} row {number}: {error}", file=sys.stderr)
    print(f"parse_bs4: {total} records", file=sys.stderr)


if __name__ == "__main__":
    main()
