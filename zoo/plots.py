"""Pictures a person would rather look at than numbers: matplotlib figures, no files, no MLflow.

Each is a `matplotlib.figure.Figure` of its own, outside pyplot: no backend is chosen and nothing
is shown or kept open (a notebook shows one where it is the cell's value; savefig writes it)."""

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator


def subplots(*grid, figsize=None, **kwargs):
    """(Figure, axes) as pyplot's subplots gives them, for a figure pyplot does not track."""
    figure = Figure(figsize=figsize)
    return figure, figure.subplots(*grid, **kwargs)


def learning_curves(history, metric, title=""):
    """history: Keras History.history (loss, val_loss, <metric>, val_<metric> per epoch)."""
    figure, axes = subplots(1, 2, figsize=(10, 3.8))
    for ax, key in zip(axes, ("loss", metric)):
        for prefix, style in (("", "-o"), ("val_", "--s")):
            values = history.get(prefix + key)
            if values:
                ax.plot(range(1, len(values) + 1), values, style, label=(prefix or "train_") + key)
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
        ax.legend()
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def gradient_flow_heatmap(snapshots, title=""):
    """snapshots: [(epochs trained, {layer: ||dL/dh_t|| [time]})] -> one panel per layer:
    distance to the last step (rows) x training progress (columns), log colour scale."""
    layers = list(snapshots[0][1])
    figure, axes = subplots(1, len(layers), figsize=(4.5 * len(layers) + 1, 4), squeeze=False)
    for ax, layer in zip(axes[0], layers):
        # column j: snapshot j; row d: distance d = time - 1 - t
        grid = np.stack([flow[layer][::-1] for _, flow in snapshots], axis=1)
        positive = grid[np.isfinite(grid) & (grid > 0)]
        norm = LogNorm(vmin=positive.min(), vmax=positive.max()) if positive.size else None
        image = ax.imshow(np.where(grid > 0, grid, np.nan), aspect="auto", origin="lower",
                          cmap="viridis", norm=norm, interpolation="nearest")
        ax.set_xticks(range(len(snapshots)), [str(epochs) for epochs, _ in snapshots])
        ax.set_xlabel("epochs trained")
        ax.set_ylabel("distance to the last step")
        ax.set_title(layer, fontsize=9)
        figure.colorbar(image, ax=ax, label="||dL/dh_t|| (batch mean)")
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def comparison_bars(summary, metric, title=""):
    """summary: DataFrame with columns variant, <metric>_mean, <metric>_std."""
    figure, ax = subplots(figsize=(max(5, 0.9 * len(summary) + 2), 4))
    ax.bar(summary["variant"], summary[f"{metric}_mean"], yerr=summary[f"{metric}_std"].fillna(0),
           capsize=4, color="tab:blue")
    ax.set_ylabel(f"{metric} (mean over seeds)")
    ax.tick_params(axis="x", rotation=30)
    ax.set_title(title)
    figure.tight_layout()
    return figure


def off_scale_top(curves, factor=3.0):
    """The top of a log axis that keeps a panel's ordinary curves readable where one explodes:
    `factor` times the largest median of a curve (so a curve that explodes in most of its epochs sets
    the scale itself); None where no value is above it (nothing to cut) or no median is positive."""
    values = [np.asarray(curve, dtype=float) for curve in curves.values()]
    medians = [np.median(v[np.isfinite(v)]) for v in values if np.isfinite(v).any()]
    if not medians or max(medians) <= 0:
        return None
    top = factor * max(medians)
    return top if any((v > top).any() for v in values) else None  # NaN is never above it, inf is


def paneled_curves(panels, metric, lines=None, title=""):
    """panels: {panel title: {label: [value per epoch]}}, side by side, each with its own log
    scale (an exploding variant in one panel does not squash the other); within a panel, values far
    above the others (off_scale_top) are drawn as a triangle at the top edge with their value, so
    one explosion does not squash the other curves of its panel either; lines: {label: value}
    drawn across every panel as dashed horizontal lines (baselines); one legend, outside the data."""
    figure, axes = subplots(1, len(panels), figsize=(6 * len(panels), 4), squeeze=False)
    colors = {}
    for ax, (panel, curves) in zip(axes[0], panels.items()):
        top = off_scale_top(curves)
        for label, values in curves.items():
            line, = ax.plot(range(1, len(values) + 1), values, marker=".", color=colors.get(label), label=label)
            colors.setdefault(label, line.get_color())
            for epoch, value in enumerate(values, start=1):
                if top is not None and value > top:  # above the top, or inf (NaN is not)
                    ax.plot([epoch], [top], marker="^", color=line.get_color(), clip_on=False)
                    ax.annotate(f"{value:.2g}", (epoch, top), textcoords="offset points", xytext=(4, -10),
                                fontsize=7, color=line.get_color())
        for i, (label, value) in enumerate((lines or {}).items()):
            ax.axhline(value, linestyle="--", linewidth=1, color=f"C{7 + i % 3}", label=label)
        ax.set_yscale("log")  # losses span orders of magnitude when a variant explodes
        if top is not None:  # the bottom as autoscaling would set it without the values cut off
            low = [v for v in [*(v for curve in curves.values() for v in curve), *(lines or {}).values()]
                   if 0 < v <= top]
            ax.set_ylim(min(low, default=top / 10) / 1.1, top)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_title(panel)
        ax.grid(alpha=0.3)
    figure.suptitle(title)
    return legend_outside(figure, axes[0])


def legend_width(labels, smallest=2.5):
    """Inches for a legend column of `labels` at font size 8 (about 0.065 inch a character, 0.5
    for the marker), at least `smallest`."""
    return max(smallest, 0.5 + 0.065 * max(map(len, labels), default=0))


def legend_outside(figure, axes):
    """One legend for every labelled line of `axes`, in a column as wide as its longest label
    (legend_width) added right of the data (none of it drawn over a curve): the figure grows by
    that column. Returns the figure."""
    handles = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    width = legend_width(list(handles))
    figure.set_figwidth(figure.get_figwidth() + width)
    share = width / figure.get_figwidth()
    figure.legend(handles.values(), handles.keys(), loc="center left", bbox_to_anchor=(1 - share + 0.01, 0.5),
                  fontsize=8, frameon=False)
    figure.tight_layout(rect=(0, 0, 1 - share, 1))
    return figure


def gradient_decay_curves(curves, bound=None, title=""):
    """curves: {(activation, spectral radius): ratio by distance}; one panel per activation,
    log scale; bound: optional (label, values by distance) drawn dashed in every panel."""
    activations = list(dict.fromkeys(activation for activation, _ in curves))
    figure, axes = subplots(1, len(activations), figsize=(5.5 * len(activations), 4.2),
                                squeeze=False, sharey=True)
    for ax, activation in zip(axes[0], activations):
        for (act, radius), ratios in curves.items():
            if act == activation:
                ax.plot(ratios, label=f"rho = {radius:g}")
        if bound is not None:
            ax.plot(bound[1], "k--", label=bound[0])
        ax.set_yscale("log")
        ax.set_ylim(1e-12, 1e10)
        ax.set_xlabel("distance k to the loss (steps)")
        ax.set_title(f"{activation} RNN, orthogonal W_hh x rho")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[0][0].set_ylabel("||dL/dh_{T-k}|| / ||dL/dh_T||")
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def long_range_summary(panels, title=""):
    """panels: [(label, baseline, {variant: (held-out loss by epoch, ||dL/dh|| by distance)})],
    one row each: learning curves against the baseline, and the gradient-flow profile after
    training."""
    figure, axes = subplots(len(panels), 2, figsize=(12, 4 * len(panels)), squeeze=False)
    for (label, baseline, variants), (curves_ax, flow_ax) in zip(panels, axes):
        for variant, (losses, flow) in variants.items():
            line, = curves_ax.plot(range(1, len(losses) + 1), losses, marker=".", label=variant)
            if flow is not None:
                flow_ax.plot(flow, color=line.get_color(), label=variant)
        curves_ax.axhline(baseline, color="k", linestyle="--", label="baseline")
        curves_ax.set_yscale("log")
        curves_ax.set_xlabel("epoch")
        curves_ax.set_ylabel("held-out loss")
        curves_ax.set_title(f"{label}: learning curves")
        curves_ax.legend(fontsize=7)
        flow_ax.set_yscale("log")
        flow_ax.set_xlabel("distance to the last step")
        flow_ax.set_ylabel("||dL/dh|| (batch mean, after training)")
        flow_ax.set_title(f"{label}: gradient flow, first layer")
        for ax in (curves_ax, flow_ax):
            ax.grid(alpha=0.3)
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def confusion_matrix(matrix, labels, title=""):
    """matrix[i, j]: count of true label i predicted as j; rows normalised, log colour."""
    rates = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    figure, ax = subplots(figsize=(0.45 * len(labels) + 3, 0.45 * len(labels) + 2))
    image = ax.imshow(np.where(rates > 0, rates, np.nan), cmap="viridis", norm=LogNorm(vmin=1e-3, vmax=1))
    ax.set_xticks(range(len(labels)), labels, rotation=90)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    figure.colorbar(image, ax=ax, label="share of the true tag's tokens")
    ax.set_title(title)
    figure.tight_layout()
    return figure


def gradient_traces(norms, clipped, title=""):
    """norms: {variant: grad_norm every N steps}; clipped: {variant: clipped fraction per epoch}."""
    figure, (norm_ax, clip_ax) = subplots(1, 2, figsize=(12, 4))
    for label, values in norms.items():  # x: the share of training (a record keeps 100 points of the steps)
        line, = norm_ax.plot(np.linspace(0, 100, len(values)), values, linewidth=0.8, label=label)
        if clipped.get(label):
            clip_ax.plot(range(1, len(clipped[label]) + 1), clipped[label], marker="o", color=line.get_color(),
                         label=label)
    norm_ax.set_yscale("log")
    norm_ax.set_xlabel("share of training (%)")
    norm_ax.set_ylabel("global gradient norm (before clipping)")
    clip_ax.set_xlabel("epoch")
    clip_ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    clip_ax.set_ylabel("share of steps clipped")
    for ax in (norm_ax, clip_ax):
        ax.grid(alpha=0.3)
    figure.suptitle(title)
    return legend_outside(figure, (norm_ax, clip_ax))


def gradient_flow_profiles(flows, title=""):
    """flows: {variant: ||dL/dh_t|| by distance to the last step}, after training, one line each."""
    figure, ax = subplots(figsize=(7, 4))
    for label, values in flows.items():
        ax.plot(values, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("distance to the last step")
    ax.set_ylabel("||dL/dh_t|| (batch mean, after training)")
    ax.grid(alpha=0.3)
    ax.set_title(title)
    return legend_outside(figure, (ax,))


def interactive_curves(series, x_title, y_title, title="", first_x=1, log_y=False):
    """series: {variant: [values]} -> a plotly Figure, one line each (x from first_x); hovering a
    point names the variant, x and value. For HTML pages (zoo.report); the PNGs stay matplotlib's."""
    import plotly.graph_objects as go

    figure = go.Figure()
    for label, values in series.items():
        figure.add_trace(go.Scatter(
            x=list(range(first_x, first_x + len(values))), y=[None if v != v else v for v in values],
            mode="lines+markers" if len(values) <= 50 else "lines", name=label,
            hovertemplate=f"<b>%{{fullData.name}}</b><br>{x_title} %{{x}}<br>{y_title} %{{y:.4g}}<extra></extra>"))
    figure.update_layout(title=title, xaxis_title=x_title, yaxis_title=y_title, height=420, hovermode="closest",
                         template="plotly_white", margin=dict(l=60, r=20, t=50, b=50))
    if log_y:
        figure.update_yaxes(type="log")
    return figure
