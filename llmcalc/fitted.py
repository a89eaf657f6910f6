"""A table of text drawn as Rich's `Table` would draw it, without its per-cell machinery, and
without importing `rich.table` (5 ms and 0.7 MiB: its ratios bring in `fractions` and `decimal`).

Rich lays every cell out through a `Padding`, a wrap, a justification and two rounds of line
splitting and shaping; for the tables llmcalc prints (cells of one line, the table as wide as
its widest cells) that was most of the time a long listing took to print — `presets` spent 40 ms
of its 50 in it. A cell that fits on one line is known in advance: its padding, its text
justified to the column's width, in the styles Rich would give them; such rows are drawn in one
pass. A table wider than its page has its columns narrowed as `Table._calculate_column_widths`
narrows them (the widest columns that may wrap first), and a cell that no longer fits on one
line is broken into lines as Rich breaks it, each drawn as a cell of one line, when it is plain
text of one-cell characters (`llmcalc.cells`), else rendered by Rich itself
(`console.render_lines`, in its `Padding`); the row is shaped as `Table._render` shapes it.
A title or caption is broken into lines the same way (or by Rich, if not one-cell text).
`measured` is the table's `Measurement` (what `render.show` asks of a table too wide for the
terminal), a plain cell of one-cell characters measured here, any other by Rich. This module
yields the `Segment`s `Table._render` (rich 15) yields, each run of unstyled ones joined into one
(Rich writes those as they are), so the bytes on the terminal — colours included — are Rich's
own. Whatever it does not handle (table-wide widths or expansion, padding above or below, full
justification, a cell that is not plain text) makes `fitted()` and `measured()` return None, and
Rich draws the table. It reads the views' `llmcalc.table.Table`, which keeps what
rich.table.Table would. `tests/test_fitted.py` checks, for random tables and for every table the
commands print, that the segments and the measure equal Rich's.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Optional, Union

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, JustifyMethod, RenderableType
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from llmcalc.cells import one_cell_each, text_width, wrapped
from llmcalc.table import Column, Table

# A cell as the fast path reads it: its text, its length in cells, its style, and the Text itself
# when it has spans of other styles (None for plain text).
_Cell = tuple[str, int, Union[str, Style], Optional[Text]]


class FittedTable:
    """A Rich renderable of a table of text, laid out (made by `fitted`)."""

    def __init__(self, table: Table, cells: list[list[_Cell]], widths: list[int]) -> None:
        self.table = table
        self.cells = cells  # column by column: header, body, footer — as Table._get_cells lists them
        self.widths = widths  # each column's width with its padding, as Table._calculate_column_widths

    @property
    def width(self) -> int:
        """The width of every line it draws."""
        return sum(self.widths) + self.table._extra_width

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        """Table.__rich_console__: title, rows, caption."""
        table = self.table
        render_options = options.update(width=self.width, highlight=table.highlight, height=None)

        def annotation(text: Union[str, Text], style: Union[str, Style, None], default: str,
                       justify: JustifyMethod) -> Iterable[Segment]:
            if isinstance(text, str):
                lines = wrapped(text, render_options.max_width, justify)
                if lines is not None:  # Text.render of the wrapped lines
                    line_style = console.get_style(Style.pick_first(style, default), default=Style.null())
                    return _lines(lines, line_style)
            rendered = (console.render_str(text, style=Style.pick_first(style, default), highlight=False)
                        if isinstance(text, str) else text)
            return console.render(rendered, options=render_options.update(justify=justify))

        if table.title:
            yield from annotation(table.title, table.title_style, "table.title", table.title_justify)
        yield from _unstyled_joined(self._rows(console, render_options))
        if table.caption:
            yield from annotation(table.caption, table.caption_style, "table.caption", table.caption_justify)

    def _rows(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        """Table._render: a row of cells that each fit on one line in one pass; a row with a cell
        that wraps, that cell as Rich renders it and the row shaped as Rich shapes it."""
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
            styles = [cell_styles[column][index] + row_style for column in range(len(widths))]
            lines = [[_cell_segments(console, *self.cells[column][index], table.columns[column].justify,
                                     width - left - right, left, right, styles[column])]
                     if self.cells[column][index][1] <= width - left - right else
                     _wrapped(console, options, table, column, index, width, styles[column], self.cells[column][index])
                     for column, (width, (left, right)) in enumerate(zip(widths, paddings))]
            row_height = max(len(cell) for cell in lines)
            height = max(row_height, 1)
            if any(len(cell) != 1 for cell in lines):  # Table._render's align_cell and set_shape
                lines = [_align(cell, "bottom" if header_row else "top" if footer_row
                                else table.columns[column].vertical, width, height, styles[column])
                         for column, (cell, width) in enumerate(zip(lines, widths))]
            if box:
                if footer_row:
                    yield Segment(box.get_row(widths, "foot", edge=show_edge), border_style)
                    yield new_line
                left_edge, right_edge, divider = edges[0 if first else (2 if last else 1)]
                if not divider.text.strip():  # Rich gives a blank divider the row's background
                    divider = Segment(divider.text, row_style.background_style + divider.style)
                for line in range(height):
                    if show_edge:
                        yield left_edge
                    for column, cell in enumerate(lines):
                        if column:
                            yield divider
                        yield from cell[line]
                    if show_edge:
                        yield right_edge
                    yield new_line
            else:
                for line in range(height):
                    for cell in lines:
                        yield from cell[line]
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


def _lines(lines: list[str], style: Style) -> list[Segment]:
    """Text.render of wrapped lines of one style (Text.__rich_console__ joins them with newlines),
    ended by a newline."""
    if not style:
        return [Segment("\n".join(lines)), Segment("\n")]
    segments = []
    for index, line in enumerate(lines):
        if index:
            segments.append(Segment("\n", Style.null()))
        if line:
            segments.append(Segment(line, style))
    segments.append(Segment("\n"))
    return segments


def _unstyled_joined(segments: Iterable[Segment]) -> Iterator[Segment]:
    """The segments, each run of unstyled ones (lines' ends included) as one: Rich writes an
    unstyled segment's text as it is on any terminal, so the bytes are the same, from a tenth of
    the segments in a plain table."""
    run: list[str] = []
    for segment in segments:
        if segment.style or segment.control:
            if run:
                yield Segment("".join(run))
                run = []
            yield segment
        else:
            run.append(segment.text)
    if run:
        yield Segment("".join(run))


def fitted(console: Console, table: Table) -> Optional[FittedTable]:
    """The table as Rich would draw it on a page `console.width` wide (a cell that fits on one line
    drawn in one pass, one that wraps broken into lines as Rich breaks it); None if it holds
    something only Rich lays out."""
    cells = _text_cells(console, table)
    if cells is None:
        return None
    widths = _column_widths(console, console.options, table, cells, console.width - table._extra_width)
    if all(width <= sum(_padding(table, index)) for index, width in enumerate(widths)):
        return None  # no column has room for text, and Rich shapes the rows otherwise
    return FittedTable(table, cells, widths)


def measured(console: Console, options: ConsoleOptions, table: Table) -> Optional[Measurement]:
    """Measurement.get of the table (Table.__rich_measure__): the narrowest it can be without
    cutting a word, and the widest it would be; None if it holds something only Rich measures."""
    cells = _text_cells(console, table)
    if cells is None:
        return None
    if options.max_width < 1:
        return Measurement(0, 0)
    widths = _column_widths(console, options, table, cells, options.max_width - table._extra_width)
    at = options.update_width(sum(widths))
    measurements = [_measure_column(console, at, table, index, cells[index]) for index in range(len(widths))]
    measurement = Measurement(sum(low for low, _ in measurements) + table._extra_width,
                              sum(high for _, high in measurements) + table._extra_width)
    measurement = measurement.normalize().with_maximum(options.max_width)
    return Measurement(0, 0) if measurement.maximum < 1 else measurement.normalize()


def _text_cells(console: Console, table: Table) -> Optional[list[list[_Cell]]]:
    """Each column's cells (header, body, footer) as the fast path reads them, if the table is one
    it draws: every cell plain text, no column highlighted, fully justified or with overflow
    "ignore", and no table-wide width, expansion, collapsed padding or padding above or below."""
    top, _, bottom, _ = table.padding
    if (table.width is not None or table.expand or table.min_width is not None or table.collapse_padding
            or top or bottom or not table.columns
            or console._markup or console._emoji):  # noqa: SLF001 - how a str cell is read
        return None
    cells = []
    for column in table.columns:
        if column.highlight or column.justify not in ("left", "center", "right") or column.overflow == "ignore":
            return None
        texts = [_as_text(cell) for cell in _raw_cells(table, column)]
        if not texts or None in texts:  # no cell at all: Rich makes the column as wide as the page
            return None
        cells.append(texts)
    return cells  # type: ignore[return-value]


def _column_widths(console: Console, options: ConsoleOptions, table: Table, cells: list[list[_Cell]],
                   max_width: int) -> list[int]:
    """Table._calculate_column_widths, each with its padding: the widest cell within the column's
    limits; past `max_width`, the widest columns that may wrap are narrowed first, then all
    evenly, and each column is measured again at its width."""
    widths = []
    for index, column in enumerate(table.columns):
        left, right = _padding(table, index)
        if column.width is not None:
            width = min(column.width + left + right, max_width)
        else:  # Table._measure_column: the widest cell, padded, within the column's limits
            width = min(max(cell[1] for cell in cells[index]) + left + right, max_width)
            if column.min_width is not None:
                width = max(width, column.min_width + left + right)
            if column.max_width is not None:
                width = min(width, column.max_width + left + right)
        widths.append(width or 1)
    if sum(widths) <= max_width:
        return widths
    widths = _collapse_widths(widths, [column.width is None and not column.no_wrap for column in table.columns],
                              max_width)
    if sum(widths) > max_width:  # last resort: every column narrowed evenly
        widths = _ratio_reduce(sum(widths) - max_width, [1] * len(widths), widths, widths)
    inner = options.update_width(max_width)
    return [_measure_column(console, inner.update_width(width), table, index, cells[index]).maximum or 0
            for index, width in enumerate(widths)]


def _measure_column(console: Console, options: ConsoleOptions, table: Table, index: int,
                    cells: list[_Cell]) -> Measurement:
    """Table._measure_column: the narrowest and widest the column's cells can be, with padding."""
    max_width = options.max_width
    if max_width < 1:
        return Measurement(0, 0)
    column = table.columns[index]
    padding = sum(_padding(table, index))
    if column.width is not None:
        return Measurement(column.width + padding, column.width + padding).with_maximum(max_width)
    sizes = [_measure(console, options, table, index, raw, cell[0])
             for raw, cell in zip(_raw_cells(table, column), cells)]
    return Measurement(max(low for low, _ in sizes), max(high for _, high in sizes)) \
        .with_maximum(max_width) \
        .clamp(None if column.min_width is None else column.min_width + padding,
               None if column.max_width is None else column.max_width + padding)


def _measure(console: Console, options: ConsoleOptions, table: Table, column: int, cell: RenderableType,
             plain: str) -> Measurement:
    """Measurement.get of a cell in its padding (Padding's and Text's __rich_measure__): a text of
    one-cell characters measured here, any other by Rich."""
    if not one_cell_each(plain):
        return Measurement.get(console, options, _renderable(table, column, cell))
    max_width = options.max_width
    if max_width < 1:
        return Measurement(0, 0)
    text = _got(Measurement(max((len(word) for word in plain.split()), default=len(plain)), len(plain)), max_width)
    if not any(table.padding):
        return text
    extra = sum(_padding(table, column))
    return _got(Measurement(max_width, max_width) if max_width - extra < 1 else
                Measurement(text.minimum + extra, text.maximum + extra), max_width)


def _got(measurement: Measurement, max_width: int) -> Measurement:
    """What Measurement.get makes of what a renderable's __rich_measure__ returns (its (0, 0) for
    a maximum below one cell is what normalizing gives: at least one cell is offered)."""
    return measurement.normalize().with_maximum(max_width).normalize()


def _raw_cells(table: Table, column: Column) -> list[RenderableType]:
    """Table._get_cells' order: header, body, footer."""
    return [*([column.header] if table.show_header else []), *column.cells,
            *([column.footer] if table.show_footer else [])]


def _renderable(table: Table, column: int, cell: RenderableType) -> RenderableType:
    """A cell as Table._get_cells hands it to Rich: in its padding, if the table has any."""
    if not any(table.padding):
        return cell
    from rich.padding import Padding

    left, right = _padding(table, column)
    return Padding(cell, (0, right, 0, left))


def _wrapped(console: Console, options: ConsoleOptions, table: Table, column: int, index: int, width: int,
             style: Style, cell: _Cell) -> list[list[Segment]]:
    """A cell that does not fit on one line, as Table._render has Rich render it: plain text of
    one-cell characters broken into lines as Rich breaks it (`cells.wrapped`), each line drawn as a
    cell of one line; any other cell by Rich."""
    settings = table.columns[column]
    plain, _, text_style, spans = cell
    left, right = _padding(table, column)
    lines = (None if spans is not None or settings.no_wrap else
             wrapped(plain, width - left - right, settings.justify, settings.overflow))
    if lines is not None:
        return [_cell_segments(console, line, len(line), text_style, None, "left", width - left - right, left, right,
                               style) for line in lines]
    padded = _renderable(table, column, _raw_cells(table, settings)[index])
    return console.render_lines(padded, options.update(width=width, justify=settings.justify, no_wrap=settings.no_wrap,
                                                       overflow=settings.overflow, height=None,
                                                       highlight=settings.highlight), style=style)


def _align(lines: list[list[Segment]], vertical: str, width: int, height: int, style: Style) -> list[list[Segment]]:
    """Table._render's align_cell (Segment.align_top, align_middle, align_bottom) and set_shape, of
    a cell whose every line is the column's width (as `_cell_segments` and Rich's render_lines
    make them): blank lines added, without measuring each segment again as set_shape does."""
    extra = height - len(lines)
    if not extra:
        return lines
    blank = [Segment(" " * width, style)]
    if vertical == "top":
        return lines + [blank] * extra
    if vertical == "middle":
        return [blank] * (extra // 2) + lines + [blank] * (extra - extra // 2)
    return [blank] * extra + lines


def _collapse_widths(widths: list[int], wrapable: list[bool], max_width: int) -> list[int]:
    """Table._collapse_widths: the widest columns that may wrap narrowed, step by step, to the
    next widest, until the table fits or none is left."""
    total_width = sum(widths)
    excess_width = total_width - max_width
    if any(wrapable):
        while total_width and excess_width > 0:
            max_column = max(width for width, allow_wrap in zip(widths, wrapable) if allow_wrap)
            second_max_column = max(width if allow_wrap and width != max_column else 0
                                    for width, allow_wrap in zip(widths, wrapable))
            column_difference = max_column - second_max_column
            ratios = [(1 if (width == max_column and allow_wrap) else 0) for width, allow_wrap in zip(widths, wrapable)]
            if not any(ratios) or not column_difference:
                break
            max_reduce = [min(excess_width, column_difference)] * len(widths)
            widths = _ratio_reduce(excess_width, ratios, max_reduce, widths)
            total_width = sum(widths)
            excess_width = total_width - max_width
    return widths


def _ratio_reduce(total: int, ratios: list[int], maximums: list[int], values: list[int]) -> list[int]:
    """rich._ratio.ratio_reduce (whose module imports fractions, and with it decimal)."""
    ratios = [ratio if maximum else 0 for ratio, maximum in zip(ratios, maximums)]
    total_ratio = sum(ratios)
    if not total_ratio:
        return values[:]
    total_remaining = total
    result: list[int] = []
    for ratio, maximum, value in zip(ratios, maximums, values):
        if ratio and total_ratio > 0:
            distributed = min(maximum, round(ratio * total_remaining / total_ratio))
            result.append(value - distributed)
            total_remaining -= distributed
            total_ratio -= ratio
        else:
            result.append(value)
    return result


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
    return plain, text_width(plain), style, spans


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
            length = text_width(plain)
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
