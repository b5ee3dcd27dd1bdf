#!/usr/bin/env python3
"""Reads the DOM a browser dumped from certsweep's HTML report (HTML, not
XML) and prints what test_report_html checks, as one JSON object:

  elements   {tag: count} of every element in the document
  on_attrs   attributes named on* (event handlers), anywhere
  svg        the calendar's data-x0, data-day-width, data-first-day
  marks      [{x, y, day, class, title}] of the calendar's marks
  ids        {id: text} of every element with an id
  hidden     ids of elements with the hidden attribute
  summary    {STATUS: count} of the header's summary
  columns    the table's data-col names, in order
  buttons    how many <th> hold a <button> (the script added them)
  rows       [{column: {"text", "sort", "title"}}] of the table body, in order

Usage: html_dom.py FILE

With --png FILE it reads a screenshot instead (8-bit RGB or RGBA, not
interlaced) and prints {"width", "height", "pixels": {"#rrggbb": count}}
for every colour in it.
"""
import json
import struct
import sys
import zlib
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
        "meta", "source", "track", "wbr"}


class Dom(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out = {"elements": {}, "on_attrs": [], "svg": {}, "marks": [], "ids": {},
                    "hidden": [], "summary": {}, "columns": [], "buttons": 0, "rows": []}
        self.stack = []      # open elements: (tag, attrs)
        self.texts = []      # [id or marker, text list] being collected
        self.row = None
        self.cell = None
        self.mark = None
        self.summary_li = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        o = self.out
        o["elements"][tag] = o["elements"].get(tag, 0) + 1
        o["on_attrs"] += [k for k in a if k.lower().startswith("on")]
        if "id" in a:
            self.texts.append([a["id"], tag, []])
        if "hidden" in a and "id" in a:
            o["hidden"].append(a["id"])
        if tag == "svg" and a.get("id") == "calendar-svg":
            o["svg"] = {k: int(a[k]) for k in ("data-x0", "data-day-width", "data-first-day")}
        if tag == "rect" and "mark" in a.get("class", "").split():
            self.mark = {"x": float(a["x"]), "y": float(a["y"]), "day": int(a["data-day"]),
                         "class": a["class"], "title": ""}
            o["marks"].append(self.mark)
        if tag == "li" and "data-status" in a:
            self.summary_li = [a["data-status"], ""]
        if tag == "th" and "data-col" in a:
            o["columns"].append(a["data-col"])
        if tag == "button" and self.stack and self.stack[-1][0] == "th":
            o["buttons"] += 1
        if tag == "tr" and self.in_tag("tbody"):
            self.row = []
            o["rows"].append(self.row)
        if tag == "td" and self.row is not None:
            self.cell = {"text": "", "sort": a.get("data-sort"), "title": a.get("title")}
            self.row.append(self.cell)
        if tag not in VOID:
            self.stack.append((tag, a))

    def in_tag(self, tag):
        return any(t == tag for t, _ in self.stack)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        while self.stack:
            t, a = self.stack.pop()
            if "id" in a:
                for k in range(len(self.texts) - 1, -1, -1):
                    if self.texts[k][0] == a["id"]:
                        ident, _, parts = self.texts.pop(k)
                        self.out["ids"][ident] = "".join(parts)
                        break
            if t == "td":
                self.cell = None
            if t == "tr":
                self.row = None
            if t == "rect":
                self.mark = None
            if t == "li" and self.summary_li:
                self.out["summary"][self.summary_li[0]] = int(self.summary_li[1])
                self.summary_li = None
            if t == tag:
                break

    def handle_data(self, data):
        for _, _, parts in self.texts:
            parts.append(data)
        if self.cell is not None:
            self.cell["text"] += data
        if self.mark is not None and self.stack and self.stack[-1][0] == "title":
            self.mark["title"] += data
        if self.summary_li is not None and self.stack and self.stack[-1][0] == "b":
            self.summary_li[1] += data


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def png_colours(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, head = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            head = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    width, height, depth, ctype, _, _, interlace = head
    assert depth == 8 and ctype in (2, 6) and interlace == 0, head
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    prev = bytearray(stride)
    counts = {}
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 255
            elif f == 4:
                line[i] = (line[i] + paeth(a, b, c)) & 255
        for i in range(0, stride, bpp):
            key = "#%02x%02x%02x" % (line[i], line[i + 1], line[i + 2])
            counts[key] = counts.get(key, 0) + 1
        prev = line
    return {"width": width, "height": height, "pixels": counts}


def main():
    if sys.argv[1] == "--png":
        json.dump(png_colours(sys.argv[2]), sys.stdout)
        return
    with open(sys.argv[1], encoding="utf-8") as f:
        text = f.read()
    p = Dom()
    p.feed(text)
    p.close()
    o = p.out
    rows = []
    for cells in o["rows"]:
        rows.append({col: cell for col, cell in zip(o["columns"], cells)})
    o["rows"] = rows
    json.dump(o, sys.stdout)


if __name__ == "__main__":
    main()
