"""Opens each product template in a running LibreOffice, types the values of
its sidecar JSON into the cells (as a user types: through the cell's format,
so a text-formatted column keeps "0470 12 34 56" and "1000" as text), and
saves it as .xlsx, .xls and .ods. Run by scripts/make-fixtures.sh."""

import json
import os
import sys
import time

import uno
from com.sun.star.beans import PropertyValue


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def connect(pipe):
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    for _ in range(120):
        try:
            ctx = resolver.resolve("uno:pipe,name=%s;urp;StarOffice.ComponentContext" % pipe)
            return ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        except Exception:
            time.sleep(0.5)
    sys.exit("LibreOffice did not answer on pipe " + pipe)


FILTERS = {"xlsx": "Calc MS Excel 2007 XML", "xls": "MS Excel 97", "ods": "calc8"}


def main(pipe, templates, out):
    desktop = connect(pipe)
    for name in sorted(os.listdir(templates)):
        if not name.endswith(".xlsx"):
            continue
        base = name[: -len(".xlsx")]
        with open(os.path.join(templates, base + ".json"), encoding="utf-8") as f:
            typed = json.load(f)
        url = uno.systemPathToFileUrl(os.path.join(templates, name))
        doc = desktop.loadComponentFromURL(url, "_blank", 0, (prop("Hidden", True),))
        sheet = doc.Sheets.getByName(typed["sheet"])
        for ref, value in typed["cells"].items():
            sheet.getCellRangeByName(ref).setFormula(value)
        for ext, flt in FILTERS.items():
            target = uno.systemPathToFileUrl(os.path.join(out, base + "." + ext))
            doc.storeToURL(target, (prop("FilterName", flt), prop("Overwrite", True)))
        doc.close(True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
