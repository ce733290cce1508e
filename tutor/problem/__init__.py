"""The problem file, read and validated: `load_problem(path)` / `parse_problem(text)`
give a `Problem` (records.py), or raise a `ProblemError` at the offending line and column.

    read.py      the top level: which sections, in which order, and the Problem built from them
    fields.py    typed readers over located YAML nodes (need_number, ...), the name table, equations
    data.py      constants, params, model equations, samples and class labels, loss and penalty, objective
    layers.py    the layered form (network:): dense layers, and the dispatch to the other layer types
    network.py   what the layers of a network share while read: names, parameters, grids, equations
    convolution.py, recurrent.py, dropout.py, batchnorm.py   the other layer types, as scalar equations
    unroll.py    `unroll: {t: [1, T]}`: a recurrence written once in the model form
    settings.py  optimizer (state, schedules), training, ask, arithmetic, the checker's tolerance
    meaning.py   rules across sections: refusals, and warnings for what is probably not meant
"""

from .fields import (
                      check_keys,
                      need_bool,
                      need_choice,
                      need_list,
                      need_mapping,
                      need_number,
                      need_number_in,
                      need_text,
                      need_whole,
)
from .layers import LAYER_KEYS
from .read import TOP_KEYS, load_problem, parse_problem
from .records import (
                      AskItem,
                      Equation,
                      Layer,
                      LossSpec,
                      Number,
                      Objective,
                      OptimizerSpec,
                      PenaltySpec,
                      Problem,
                      ProblemWarning,
                      Schedule,
                      Training,
                      total_steps,
)
from .settings import ASK_WORDS, parse_tolerance

__all__ = ["ASK_WORDS", "LAYER_KEYS", "TOP_KEYS", "AskItem", "Equation", "Layer", "LossSpec", "Number", "Objective",
           "OptimizerSpec", "PenaltySpec", "Problem", "ProblemWarning", "Schedule", "Training", "check_keys",
           "load_problem", "need_bool", "need_choice", "need_list", "need_mapping", "need_number", "need_number_in",
           "need_text", "need_whole", "parse_problem", "parse_tolerance", "total_steps"]
