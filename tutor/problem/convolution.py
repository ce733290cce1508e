"""conv1d / conv2d and maxpool / avgpool layers, expanded to scalar equations.

Convolution is cross-correlation, as in PyTorch: J_ij = Σ_ab W_ab·I_(s·i+a−p)(s·j+b−p) + b,
with zero padding p (a padded zero contributes no term) and stride s; one kernel's
weights are shared over every position, so its gradient is the sum over positions.
A pool's window is `size` wide (a square in 2-D, or [rows, columns]) and moves by
`stride` (default: size); stride and padding may also be given per axis. Max pooling is max(…) of the window: at a tie the gradient goes to every
maximum in equal parts (the spec's rule; max is not differentiable there)."""

from __future__ import annotations

import sympy

from ..ops import OPS
from ..source import Node
from .fields import check_keys, need_list, need_mapping, need_number, need_text, need_whole
from .network import Build, Feature, symbol
from .records import Grid

CONV_KEYS = ("type", "kernel", "kernels", "bias", "stride", "padding", "activation", "names", "units")
POOL_KEYS = ("type", "size", "stride", "units")
DIMENSIONS = {"conv1d": 1, "conv2d": 2}


def read_conv(node: Node, kind: str, feature: Feature, build: Build, read_activation) -> Feature:
    check_keys(node, CONV_KEYS, ("units",), kind)
    v = node.value
    dims = DIMENSIONS[kind]
    if ("kernel" in v) == ("kernels" in v):
        raise node.error(f"expected kernel (one kernel) or kernels (a list, one output channel each) "
                         f"in {kind}, {'not both' if 'kernel' in v else 'found neither'}")
    kernel_nodes = [v["kernel"]] if "kernel" in v else need_list(v["kernels"], "a list of kernels")
    kernels = [_kernel(k, dims) for k in kernel_nodes]
    source = _one_channel(node, kind, feature, dims)
    stride = per_axis(v.get("stride"), dims, "the stride", 1, 1)
    padding = per_axis(v.get("padding"), dims, "the padding (zeros on each side)", 0, 0)
    activation, act_arg = read_activation(v["activation"]) if "activation" in v else ("linear", None)
    if activation == "softmax":
        raise v["activation"].error("softmax is a dense layer's activation; a convolution takes a scalar one")
    out_shape = tuple(_positions(kernel_nodes[0], v.get("stride", node), n, k, s, p, axis, dims)
                      for axis, (n, k, s, p) in enumerate(zip(source.shape, kernels[0][1], stride, padding)))
    for k_node, (_, shape) in zip(kernel_nodes, kernels):
        if shape != kernels[0][1]:
            raise k_node.error(f"expected every kernel of the layer to be {_shape_text(kernels[0][1])}, "
                               f"found {_shape_text(shape)}")
    biases = _biases(v.get("bias"), len(kernels))
    names = _names(v.get("names"), len(kernels))
    units = need_text(v["units"], "the name of the layer's output grid (units: K)")
    several = len(kernels) > 1
    out = []
    for c, ((values, shape), k_node) in enumerate(zip(kernels, kernel_nodes), 1):
        suffix = str(c) if several else ""
        kernel_name = names["kernel"][c - 1] if names["kernel"] else f"k_{units}{suffix}"
        kernel = build.grid(kernel_name, shape, "kernel", k_node, define=None)
        for comp, value in zip(kernel.components, values):
            build.param(Node(comp, k_node.line, k_node.col, k_node.path), value)
        if set(kernel.components) - set(build.names.owner):  # not shared with an earlier kernel
            build.shaped(kernel, "parameter", k_node)
        build.weights.extend(kernel.components)
        bias = None
        if biases is not None:
            bias_name = names["bias"][c - 1] if names["bias"] else f"b_{units}{suffix}"
            bias_at = biases[c - 1][1]
            bias = build.param(Node(bias_name, bias_at.line, bias_at.col, bias_at.path), biases[c - 1])
        net_name = names["net"][c - 1] if names["net"] else f"net_{units}{suffix}"
        net = build.grid(net_name, out_shape, "net", node)
        unit = build.grid(units + suffix, out_shape, "units", node)
        for name, expr in zip(net.components, _correlate(source, kernel, out_shape, stride, padding, bias)):
            build.equation(name, expr)
        fn = OPS[activation].sympy_fn if activation != "linear" else None
        for name, net_comp in zip(unit.components, net.components):
            z = symbol(net_comp)
            build.equation(name, z if fn is None else fn(z, act_arg) if act_arg is not None else fn(z))
        out.append(unit)
    return tuple(out)


def read_pool(node: Node, kind: str, feature: Feature, build: Build) -> Feature:
    check_keys(node, POOL_KEYS, ("size", "units"), kind)
    v = node.value
    units = need_text(v["units"], "the name of the layer's output grid (units: O)")
    dims = len(feature[0].shape)
    size = per_axis(v["size"], dims, "the pool's window size", 1, None)
    stride = per_axis(v["stride"], dims, "the stride", 1, None) if "stride" in v else size
    out = []
    for c, source in enumerate(feature, 1):
        shape = tuple(_positions(v["size"], v.get("stride", v["size"]), n, k, st, 0, axis, dims)
                      for axis, (n, k, st) in enumerate(zip(source.shape, size, stride)))
        grid = build.grid(units + (str(c) if len(feature) > 1 else ""), shape, "units", node)
        for name, window in zip(grid.components, _windows(source, shape, size, stride)):
            args = [symbol(s) for s in window]
            if kind == "maxpool":
                expr = args[0] if len(args) == 1 else OPS["max"].sympy_fn(*args)
            else:
                expr = sympy.Mul(sympy.Rational(1, len(args)), sympy.Add(*args), evaluate=False)  # the mean as written
            build.equation(name, expr)
        out.append(grid)
    return tuple(out)


# ---------------------------------------------------------------- reading

def _kernel(node: Node, dims: int):
    """A kernel's values row-major, with its shape."""
    if dims == 1:
        items = need_list(node, "a 1-D kernel: a list of numbers")
        return [(need_number(i, "a kernel weight"), i) for i in items], (len(items),)
    rows = need_list(node, "a 2-D kernel: a list of rows")
    width = None
    values = []
    for row in rows:
        items = need_list(row, "a row of the kernel (a list of numbers)")
        if width is not None and len(items) != width:
            raise row.error(f"expected {width} numbers in every row of the kernel, found {len(items)}")
        width = len(items)
        values += [(need_number(i, "a kernel weight"), i) for i in items]
    return values, (len(rows), width)


def _shape_text(shape: tuple[int, ...]) -> str:
    return "×".join(str(n) for n in shape)


def per_axis(node: Node | None, dims: int, what: str, minimum: int, default: int | None) -> tuple[int, ...]:
    """A whole number for every axis, or (2-D) a list [rows, columns]."""
    if node is None:
        return (default,) * dims
    if isinstance(node.value, list):
        items = need_list(node, f"{what}: a whole number, or one per axis")
        if len(items) != dims:
            raise node.error(f"expected {what} as one number or {dims} (one per axis), found {len(items)}")
        return tuple(need_whole(i, what, minimum) for i in items)
    return (need_whole(node, what, minimum),) * dims


def _one_channel(node: Node, kind: str, feature: Feature, dims: int) -> Grid:
    if len(feature) != 1:
        raise node.error(f"{kind} reads one grid; its sources are {len(feature)} channels "
                         f"({', '.join(g.name for g in feature)}): a kernel over several channels is not supported")
    source = feature[0]
    if len(source.shape) != dims:
        what = "a vector (a 1-D sequence)" if dims == 1 else "a 2-D grid (inputs: {I: [rows, columns]})"
        raise node.error(f"{kind} needs {what}; its source {source.name or ', '.join(source.components[:3])} "
                         f"has shape {_shape_text(source.shape)}")
    return source


def _positions(size_node: Node, stride_node: Node, n: int, k: int, stride: int, padding: int, axis: int,
               dims: int) -> int:
    """How many window positions fit along one axis; they must tile the padded input."""
    along = "" if dims == 1 else (" along the rows" if axis == 0 else " along the columns")
    padded = n + 2 * padding
    if k > padded:
        pad = f" padded to {padded}" if padding else ""
        raise size_node.error(f"the window ({k}) is larger than its input ({n}{pad}){along}")
    if (padded - k) % stride:
        raise stride_node.error(f"stride {stride} does not tile the input{along}: ({padded} − {k}) is not a "
                                f"multiple of {stride} (input {n}{f' + 2·{padding} padding' if padding else ''}, "
                                f"window {k})")
    return (padded - k) // stride + 1


def _biases(node: Node | None, count: int):
    if node is None:
        return None
    if isinstance(node.value, list):
        items = node.value
        if len(items) != count:
            raise node.error(f"expected {count} biases, one per kernel, found {len(items)}")
        return [(need_number(i, "a bias"), i) for i in items]
    value = need_number(node, "a bias (one number, shared over every position)")
    return [(value, node)] * count


def _names(node: Node | None, count: int) -> dict[str, list[str] | None]:
    out: dict[str, list[str] | None] = {"kernel": None, "net": None, "bias": None}
    if node is None:
        return out
    need_mapping(node, "names: kernel, net and/or bias")
    check_keys(node, tuple(out), (), "names")
    for key, value in node.items():
        base = need_text(value, f"the {key}'s name")
        out[key] = [base] if count == 1 else [f"{base}{c}" for c in range(1, count + 1)]
    return out


# ---------------------------------------------------------------- expanding

def _grid_at(grid: Grid, index: tuple[int, ...]) -> str:
    width = grid.shape[-1]
    return grid.components[index[0]] if len(index) == 1 else grid.components[index[0] * width + index[1]]


def _correlate(source: Grid, kernel: Grid, out_shape, stride: tuple[int, ...], padding: tuple[int, ...],
               bias: str | None):
    """Each output position's net: the kernel times the input patch under it, plus the bias."""
    for out_index in _indices(out_shape):
        terms = []
        for k_index in _indices(kernel.shape):
            at = tuple(o * s + k - p for o, k, s, p in zip(out_index, k_index, stride, padding))
            if all(0 <= a < n for a, n in zip(at, source.shape)):
                terms.append(symbol(_grid_at(kernel, k_index)) * symbol(_grid_at(source, at)))
        if bias is not None:
            terms.append(symbol(bias))
        yield sympy.Add(*terms)


def _windows(source: Grid, out_shape, size: tuple[int, ...], stride: tuple[int, ...]):
    for out_index in _indices(out_shape):
        yield [_grid_at(source, tuple(o * s + k for o, k, s in zip(out_index, k_index, stride)))
               for k_index in _indices(size)]


def _indices(shape):
    out = [()]
    for n in shape:
        out = [(*prefix, i) for prefix in out for i in range(n)]
    return out
