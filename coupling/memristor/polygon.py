"""Closed polygons in a plane: signed (shoelace) area and the split of a self-crossing polyline
into simple loops. Units: those of x times those of y (V * A = W for an I-V loop). See
docs/theory.md#hysteresis-loops."""

from __future__ import annotations

import math

import numpy as np


def shoelace_area(x, y) -> float:
    """Signed area of the closed polygon (x_k, y_k) (closing edge implied), > 0 if counterclockwise.

    Units: those of x times those of y (V * A = W for an I-V loop)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.size < 3:
        return 0.0
    # centre first: the sum is translation invariant and this avoids cancellation
    xc, yc = x - x.mean(), y - y.mean()
    return 0.5 * float(np.dot(xc, np.roll(yc, -1)) - np.dot(np.roll(xc, -1), yc))


def decompose_loop(x, y, tolerance: float = 1e-12) -> list[dict]:
    """Split a closed polyline at its self-crossings (and self-touchings at vertices) into simple
    loops, walking it once (loop erasure: when the new edge hits the path walked so far, the part
    of the path after the hit point is closed into a loop and removed).

    Returns one dict per simple loop, in the order closed: ``signed_area`` (units of x*y, > 0
    counterclockwise), ``x``, ``y`` (its vertices, open polygon). The signed areas add up to the
    polygon's shoelace area. ``tolerance``: relative to the bounding box, what counts as a hit.
    O(n^2) in the number of vertices, vectorised per edge.
    """
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if x.size != y.size:
        raise ValueError("x and y must have the same length")
    if x.size and (x[0] != x[-1] or y[0] != y[-1]):
        x, y = np.append(x, x[0]), np.append(y, y[0])
    n = x.size
    if n < 4:
        return [{"signed_area": 0.0, "x": x[:-1], "y": y[:-1]}] if n else []
    scale = max(float(np.ptp(x)), float(np.ptp(y)), 1e-300)
    eps = tolerance
    px = np.empty(2 * n)
    py = np.empty(2 * n)
    px[0], py[0] = x[0], y[0]
    m = 1  # path length
    loops: list[dict] = []
    for k in range(1, n):
        bx, by = x[k], y[k]
        while True:
            ax, ay = px[m - 1], py[m - 1]
            dx, dy = bx - ax, by - ay
            if math.hypot(dx, dy) <= eps * scale:
                break  # zero-length edge: nothing to cross, do not add a duplicate vertex
            hit_j, hit_s = -1, math.inf
            if m >= 3:  # candidate edges 0 .. m-3 (the edge ending at a is adjacent)
                sx, sy = px[:m - 2], py[:m - 2]
                ex, ey = px[1:m - 1] - sx, py[1:m - 1] - sy
                denom = dx * ey - dy * ex
                wx, wy = sx - ax, sy - ay
                with np.errstate(divide="ignore", invalid="ignore"):
                    s = (wx * ey - wy * ex) / denom  # along the new edge a -> b
                    u = (wx * dy - wy * dx) / denom  # along the old edge
                hit = (np.abs(denom) > 1e-300) & (s > eps) & (s <= 1 + eps) \
                    & (u > eps) & (u <= 1 + eps)
                if np.any(hit):
                    hit_j = int(np.argmin(np.where(hit, s, np.inf)))
                    hit_s = min(float(s[hit_j]), 1.0)
            if hit_s > 1.0 - eps and m >= 2:
                # b on a vertex walked before (a touching, possibly along collinear edges that
                # the crossing test cannot see); the closing edge's end on vertex 0 is no touch
                first = 1 if k == n - 1 else 0
                near = np.flatnonzero(np.hypot(px[first:m - 1] - bx, py[first:m - 1] - by)
                                      <= eps * scale)
                if near.size:
                    hit_j, hit_s = int(near[-1]) + first - 1, 1.0
                    if hit_j < 0:  # b is vertex 0 itself: the loop is the whole path
                        lx, ly = px[:m].copy(), py[:m].copy()
                        loops.append({"signed_area": shoelace_area(lx, ly), "x": lx, "y": ly})
                        m = 1
                        break
            if hit_j >= 0:
                hx, hy = ax + hit_s * dx, ay + hit_s * dy
                lx = np.concatenate([[hx], px[hit_j + 1:m]])
                ly = np.concatenate([[hy], py[hit_j + 1:m]])
                loops.append({"signed_area": shoelace_area(lx, ly), "x": lx, "y": ly})
                m = hit_j + 1
                px[m], py[m] = hx, hy
                m += 1
                continue  # go on from the hit point towards b
            px[m], py[m] = bx, by
            m += 1
            break
    rest_x, rest_y = px[:m], py[:m]
    if m > 1 and rest_x[-1] == rest_x[0] and rest_y[-1] == rest_y[0]:
        rest_x, rest_y = rest_x[:-1], rest_y[:-1]
    loops.append({"signed_area": shoelace_area(rest_x, rest_y), "x": rest_x, "y": rest_y})
    return loops
