//! Small 3-D rotation helpers (f64) for forward kinematics and augmentation.

/// A 3x3 matrix, row-major.
pub type Mat3 = [[f64; 3]; 3];

/// The identity.
pub const IDENTITY: Mat3 = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];

/// Rotation about x by `a` radians (right-handed).
pub fn rot_x(a: f64) -> Mat3 {
    let (s, c) = a.sin_cos();
    [[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]]
}

/// Rotation about y by `a` radians (right-handed).
pub fn rot_y(a: f64) -> Mat3 {
    let (s, c) = a.sin_cos();
    [[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]]
}

/// Rotation about z by `a` radians (right-handed).
pub fn rot_z(a: f64) -> Mat3 {
    let (s, c) = a.sin_cos();
    [[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]
}

/// Rotation about axis `axis` (0 = x, 1 = y, 2 = z).
pub fn rot_axis(axis: usize, a: f64) -> Mat3 {
    match axis {
        0 => rot_x(a),
        1 => rot_y(a),
        _ => rot_z(a),
    }
}

/// Matrix product a . b.
pub fn mul(a: &Mat3, b: &Mat3) -> Mat3 {
    let mut o = [[0.0; 3]; 3];
    for (i, row) in o.iter_mut().enumerate() {
        for (j, cell) in row.iter_mut().enumerate() {
            *cell = (0..3).map(|k| a[i][k] * b[k][j]).sum();
        }
    }
    o
}

/// Matrix times vector.
pub fn apply(m: &Mat3, v: [f64; 3]) -> [f64; 3] {
    [0, 1, 2].map(|i| m[i][0] * v[0] + m[i][1] * v[1] + m[i][2] * v[2])
}

/// Transpose (the inverse of a rotation).
pub fn transpose(m: &Mat3) -> Mat3 {
    [0, 1, 2].map(|i| [0, 1, 2].map(|j| m[j][i]))
}

/// Vector sum.
pub fn add(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarter_turns_move_axes_as_right_handed_rotations_do() {
        let h = std::f64::consts::FRAC_PI_2;
        let near = |a: [f64; 3], b: [f64; 3]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-12);
        assert!(near(apply(&rot_z(h), [1.0, 0.0, 0.0]), [0.0, 1.0, 0.0]));
        assert!(near(apply(&rot_x(h), [0.0, 1.0, 0.0]), [0.0, 0.0, 1.0]));
        assert!(near(apply(&rot_y(h), [0.0, 0.0, 1.0]), [1.0, 0.0, 0.0]));
        let r = mul(&rot_z(0.3), &rot_x(-0.7));
        let back = mul(&transpose(&r), &r);
        for (i, row) in back.iter().enumerate() {
            for (j, v) in row.iter().enumerate() {
                assert!((v - IDENTITY[i][j]).abs() < 1e-12);
            }
        }
    }
}
