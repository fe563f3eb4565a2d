// Multi-scale focal weights of AMR (paper Eq. 3-4) for a batch of clips, one workgroup per person.
//
// Input positions are laid out [B, T, M, V, 3]; person p = b * M + m. For every window size n_s, the
// energy e_s of each (window, joint) is the mean squared distance of the joint to its window mean
// (deviations taken from the window's first frame, then centred: a constant joint gives exactly 0),
// the threshold e_t of the person is the mean of e_s over its windows and joints, and the weight is
// w = 1 / (1 + k e_t / (e_s + eps)), or 0 where e_s = 0. The last window of a length that n does not
// divide holds the remaining frames. Fused per-frame weights are the mean (fusion 0) or the max
// (fusion 1) over the window sizes. The CPU reference is core/src/focal/mod.rs.

struct Params {
    frames: u32,
    persons: u32,
    joints: u32,
    total_persons: u32,
    scales: u32,
    fusion: u32,
    k: f32,
    eps: f32,
    // Window size of each scale (up to 8).
    windows: array<vec4<u32>, 2>,
    // First entry of each scale in a person's row of [windows_s * V] entries.
    offsets: array<vec4<u32>, 2>,
    // Entries per person: sum over scales of windows_s * V.
    row: u32,
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> positions: array<f32>;
@group(0) @binding(2) var<storage, read_write> energy: array<f32>;
@group(0) @binding(3) var<storage, read_write> weights: array<f32>;
@group(0) @binding(4) var<storage, read_write> thresholds: array<f32>;
@group(0) @binding(5) var<storage, read_write> fused: array<f32>;

const WG: u32 = 256u;
const MAX_SCALES: u32 = 8u;

var<workgroup> partial: array<f32, 2048>; // MAX_SCALES * WG
var<workgroup> threshold: array<f32, 8>;

fn window_of(s: u32) -> u32 {
    return params.windows[s / 4u][s % 4u];
}

fn offset_of(s: u32) -> u32 {
    return params.offsets[s / 4u][s % 4u];
}

fn joint_at(p: u32, t: u32, v: u32) -> vec3<f32> {
    let b = p / params.persons;
    let m = p % params.persons;
    let i = (((b * params.frames + t) * params.persons + m) * params.joints + v) * 3u;
    return vec3<f32>(positions[i], positions[i + 1u], positions[i + 2u]);
}

fn scale_of(entry: u32) -> u32 {
    var s = 0u;
    for (var k = 1u; k < params.scales; k = k + 1u) {
        if (entry >= offset_of(k)) {
            s = k;
        }
    }
    return s;
}

fn window_count(s: u32) -> u32 {
    let n = window_of(s);
    return (params.frames + n - 1u) / n;
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let p = wg.x + wg.y * 65535u;
    if (p >= params.total_persons) {
        return;
    }
    let V = params.joints;
    let T = params.frames;
    let row = params.row;

    // 1. Energies, and this thread's partial sums per scale.
    var acc: array<f32, 8>;
    for (var s = 0u; s < MAX_SCALES; s = s + 1u) {
        acc[s] = 0.0;
    }
    for (var i = lid; i < row; i = i + WG) {
        let s = scale_of(i);
        let local = i - offset_of(s);
        let w = local / V;
        let v = local % V;
        let n = window_of(s);
        let t0 = w * n;
        let t1 = min(t0 + n, T);
        let cnt = f32(t1 - t0);
        let base = joint_at(p, t0, v);
        var sum = vec3<f32>(0.0, 0.0, 0.0);
        for (var t = t0; t < t1; t = t + 1u) {
            sum = sum + (joint_at(p, t, v) - base);
        }
        let mean = sum / cnt;
        var sq = 0.0;
        for (var t = t0; t < t1; t = t + 1u) {
            let d = joint_at(p, t, v) - base - mean;
            sq = sq + dot(d, d);
        }
        let e = sq / cnt;
        energy[p * row + i] = e;
        acc[s] = acc[s] + e;
    }
    for (var s = 0u; s < MAX_SCALES; s = s + 1u) {
        partial[s * WG + lid] = acc[s];
    }
    workgroupBarrier();

    // 2. Threshold per scale: tree reduction of the partial sums.
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if (lid < stride) {
            for (var s = 0u; s < MAX_SCALES; s = s + 1u) {
                partial[s * WG + lid] = partial[s * WG + lid] + partial[s * WG + lid + stride];
            }
        }
        workgroupBarrier();
    }
    if (lid < params.scales) {
        let et = partial[lid * WG] / f32(window_count(lid) * V);
        threshold[lid] = et;
        thresholds[p * params.scales + lid] = et;
    }
    storageBarrier();
    workgroupBarrier();

    // 3. Weights of every window.
    for (var i = lid; i < row; i = i + WG) {
        let e = energy[p * row + i];
        let et = threshold[scale_of(i)];
        var w = 0.0;
        if (e > 0.0) {
            w = 1.0 / (1.0 + params.k * et / (e + params.eps));
        }
        weights[p * row + i] = w;
    }
    storageBarrier();
    workgroupBarrier();

    // 4. Fused weight per frame and joint.
    let b = p / params.persons;
    let m = p % params.persons;
    for (var i = lid; i < T * V; i = i + WG) {
        let t = i / V;
        let v = i % V;
        var f = 0.0;
        for (var s = 0u; s < params.scales; s = s + 1u) {
            let w = weights[p * row + offset_of(s) + (t / window_of(s)) * V + v];
            if (params.fusion == 1u) {
                f = max(f, w);
            } else {
                f = f + w;
            }
        }
        if (params.fusion != 1u) {
            f = f / f32(params.scales);
        }
        fused[((b * T + t) * params.persons + m) * V + v] = f;
    }
}
