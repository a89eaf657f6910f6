"""`llmcalc gpus`."""

from llmcalc.options import JsonOption, LangOption, emit, reports_errors


@reports_errors
def list_gpus(json_output: JsonOption = False, lang: LangOption = None) -> None:
    """The GPU catalogue `fit --gpu` takes: memory, bandwidth and dense throughput, with sources."""
    from llmcalc.i18n import choose

    choose(lang)
    from llmcalc.gpus import CATALOGUE

    def as_json() -> None:
        from llmcalc.formats import write_json
        from llmcalc.formats.gpus import gpus_document

        write_json(gpus_document(CATALOGUE))

    def as_table() -> None:
        from llmcalc.views.gpus import print_gpus

        print_gpus(CATALOGUE)

    emit(None, json_output, {"table": as_table, "json": as_json})
