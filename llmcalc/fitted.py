"""A table that fits its page, drawn in one pass: the segments Rich's `Table` would yield, without
its per-cell machinery.

Rich lays every cell out through a `Padding`, a wrap, a justification and two rounds of line
splitting and shaping; for the tables llmcalc prints (every cell one line, the whole table as
wide as its widest cells) that was most of the time a long listing took to print — `presets`
spent 40 ms of its 50 in it. When every cell of a table fits on one line, a cell's line is
known in advance: its padding, its text justified to the column's width, in the styles Rich
would give them. This module yields exactly the `Segment`s `Table._render` (rich 15) yields in
that case, so the bytes on the terminal — colours included — are Rich's own; the title and
caption are still rendered by Rich. Whatever it does not handle (a cell that would wrap, a
table too wide for the page, fixed widths, row heights above one, full justification, a cell
that is not text) makes `fitted()` return None, and Rich draws the table as before. It reads
the views' `llmcalc.table.Table`, which keeps what rich.table.Table would, so that a table that
fits never imports rich.table.
`tests/test_fitted.py` checks, for random tables and for every table the commands print, that
the segments equal Rich's.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Optional, Union

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, JustifyMethod, RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from llmcalc.table import Table

# A cell as the fast path reads it: its text, its length in cells, its style, and the Text itself
# when it has spans of other styles (None for plain text).
_Cell = tuple[str, int, Union[str, Style], Optional[Text]]


class FittedTable:
    """A Rich renderable for a table whose cells each fit on one line (made by `fitted`)."""

    def __init__(self, table: Table, cells: list[list[_Cell]], widths: list[int]) -> None:
        self.table = table
        self.cells = cells  # column by column: header, body, footer — as Table._get_cells lists them
        self.widths = widths  # each column's width with its padding, as Table._calculate_column_widths

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        """Table.__rich_console__: title, rows, caption."""
        table = self.table
        render_options = options.update(width=sum(self.widths) + table._extra_width, highlight=table.highlight,
                                        height=None)

        def annotation(text: Union[str, Text], style: Union[str, Style, None], default: str,
                       justify: JustifyMethod) -> Iterable[Segment]:
            rendered = (console.render_str(text, style=Style.pick_first(style, default), highlight=False)
                        if isinstance(text, str) else text)
            return console.render(rendered, options=render_options.update(justify=justify))

        if table.title:
            yield from annotation(table.title, table.title_style, "table.title", table.title_justify)
        yield from self._rows(console, options)
        if table.caption:
            yield from annotation(table.caption, table.caption_style, "table.caption", table.caption_justify)

    def _rows(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        """Table._render for rows of one line each."""
        table, widths = self.table, self.widths
        get_style = console.get_style
        border_style = get_style(table.style or "") + get_style(table.border_style or "")
        safe = table.safe_box if table.safe_box is not None else console.safe_box
        box = table.box.substitute(options, safe=safe) if table.box else None
        box = box.get_plain_headed_box() if box and not table.show_header else box
        new_line = Segment.line()
        show_header, show_footer, show_edge = table.show_header, table.show_footer, table.show_edge
        if box:
            edges = [(Segment(left, border_style), Segment(right, border_style), Segment(vertical, border_style))
                     for left, right, vertical in ((box.head_left, box.head_right, box.head_vertical),
                                                   (box.mid_left, box.mid_right, box.mid_vertical),
                                                   (box.foot_left, box.foot_right, box.foot_vertical))]
            if show_edge:
                yield Segment(box.get_top(widths), border_style)
                yield new_line
        row_count = len(self.cells[0])
        paddings = [_padding(table, index) for index in range(len(widths))]
        cell_styles = _cell_styles(table, console)
        for index in range(row_count):
            first, last = index == 0, index == row_count - 1
            header_row, footer_row = first and show_header, last and show_footer
            row = table.rows[index - show_header] if not header_row and not footer_row else None
            row_style = Style.null() if header_row or footer_row else get_style(
                table.get_row_style(console, index - 1 if show_header else index))
            cells = [_cell_segments(console, *self.cells[column][index], table.columns[column].justify,
                                    width - left - right, left, right, cell_styles[column][index] + row_style)
                     for column, (width, (left, right)) in enumerate(zip(widths, paddings))]
            if box:
                if footer_row:
                    yield Segment(box.get_row(widths, "foot", edge=show_edge), border_style)
                    yield new_line
                left_edge, right_edge, divider = edges[0 if first else (2 if last else 1)]
                if not divider.text.strip():  # Rich gives a blank divider the row's background
                    divider = Segment(divider.text, row_style.background_style + divider.style)
                if show_edge:
                    yield left_edge
                for column, segments in enumerate(cells):
                    if column:
                        yield divider
                    yield from segments
                if show_edge:
                    yield right_edge
            else:
                for segments in cells:
                    yield from segments
            yield new_line
            if box and header_row:
                yield Segment(box.get_row(widths, "head", edge=show_edge), border_style)
                yield new_line
            if (box and (table.show_lines or table.leading or (row and row.end_section)) and not last
                    and not (show_footer and index >= row_count - 2) and not header_row):
                if table.leading:
                    yield Segment(box.get_row(widths, "mid", edge=show_edge) * table.leading, border_style)
                else:
                    yield Segment(box.get_row(widths, "row", edge=show_edge), border_style)
                yield new_line
        if box and show_edge:
            yield Segment(box.get_bottom(widths), border_style)
            yield new_line


def fitted(console: Console, table: Table) -> Optional[FittedTable]:
    """The table drawn in one pass, if every cell fits on one line of a page `console.width` wide
    with the table's natural widths; None if Rich must lay it out."""
    if (table.width is not None or table.expand or table.min_width is not None or table.collapse_padding
            or not table.columns or console._markup or console._emoji):  # noqa: SLF001 - how a str cell is read
        return None
    max_width = console.width - table._extra_width
    widths, cells = [], []
    for index, column in enumerate(table.columns):
        if column.highlight or column.justify not in ("left", "center", "right") or column.overflow == "ignore":
            return None
        raw = [*([column.header] if table.show_header else []), *column.cells,
               *([column.footer] if table.show_footer else [])]
        texts = [_as_text(cell) for cell in raw]
        if not texts or None in texts:  # no cell at all: Rich makes the column as wide as the page
            return None
        left, right = _padding(table, index)
        content = [text[1] for text in texts]  # type: ignore[index]
        if column.width is not None:
            width = min(column.width + left + right, max_width)
        else:  # Table._measure_column: the widest cell, padded, within the column's limits
            width = min(max(content) + left + right, max_width)
            if column.min_width is not None:
                width = max(width, column.min_width + left + right)
            if column.max_width is not None:
                width = min(width, column.max_width + left + right)
            width = width or 1
        if max(content) > width - left - right:  # it would wrap
            return None
        widths.append(width)
        cells.append(texts)
    if sum(widths) > max_width or all(width <= sum(_padding(table, index)) for index, width in enumerate(widths)):
        return None  # too wide; or no column has room for text, and Rich shapes the rows otherwise
    return FittedTable(table, cells, widths)  # type: ignore[arg-type]


def _as_text(cell: RenderableType) -> Optional[_Cell]:
    """A cell's text and style, if it is plain text on one line that Rich would not restyle."""
    style: Union[str, Style] = ""
    spans: Optional[Text] = None
    if isinstance(cell, str):
        plain = cell
    elif type(cell) is Text and cell.end == "\n" and cell.justify is None and cell.overflow is None \
            and cell.no_wrap is None and cell.tab_size is None:
        plain, style, spans = cell.plain, cell.style, (cell if cell.spans else None)
    else:
        return None
    if not plain.isprintable():  # a newline or tab: more than one line, or Rich expands it
        return None
    return plain, cell_len(plain), style, spans


def _padding(table: Table, column: int) -> tuple[int, int]:
    """Table._get_cells' left and right padding of a column's cells."""
    _, right, _, left = table.padding
    if not table.pad_edge:
        left = 0 if column == 0 else left
        right = 0 if column == len(table.columns) - 1 else right
    return left, right


def _cell_styles(table: Table, console: Console) -> list[list[Style]]:
    """Table._get_cells' style of each cell, column by column: header, body, footer."""
    get_style = console.get_style
    styles = []
    for column in table.columns:
        body = get_style(column.style or "")
        styles.append([*([get_style(table.header_style or "") + get_style(column.header_style)]
                         if table.show_header else []),
                       *[body] * len(column._cells),
                       *([get_style(table.footer_style or "") + get_style(column.footer_style)]
                         if table.show_footer else [])])
    return styles


def _cell_segments(console: Console, plain: str, length: int, text_style: Union[str, Style], spans: Optional[Text],
                   justify: str, width: int, left: int, right: int, style: Style) -> list[Segment]:
    """One cell's line: Padding's left pad, the text justified in `width` (Text.wrap and
    Lines.justify), the right pad; the cell's style applied over them as console.render_lines does."""
    if width < 1:  # Rich renders nothing in no width, and the row's shaping fills the cell with blanks
        return [Segment(" " * (left + right), style)]
    pad_style = Style.null()
    if spans is not None:  # Rich's own steps on a copy: the spans' segments are what Text.render makes
        line = spans.copy()
        _justify(line, justify, width)
        content = list(Text("\n").join([line]).render(console))
    else:
        if justify != "left" and plain[-1:].isspace():
            plain = plain.rstrip()
            length = cell_len(plain)
        excess = width - length
        if justify == "left":
            plain = plain + " " * excess
        elif justify == "right":
            plain = " " * excess + plain
        else:
            plain = " " * (excess // 2) + plain + " " * (excess - excess // 2)
        content = [Segment(plain, console.get_style(text_style) if text_style else None)]
    line_segments = ([Segment(" " * left, pad_style)] if left else []) + content + \
        ([Segment(" " * right, pad_style)] if right else [])
    if style:
        return [Segment(segment_text, style + segment_style) for segment_text, segment_style, _ in line_segments]
    return line_segments


def _justify(line: Text, justify: str, width: int) -> None:
    """Lines.justify for one line that fits."""
    if justify == "left":
        line.truncate(width, pad=True)
    elif justify == "center":
        line.rstrip()
        line.pad_left((width - cell_len(line.plain)) // 2)
        line.pad_right(width - cell_len(line.plain))
    else:
        line.rstrip()
        line.pad_left(width - cell_len(line.plain))
