//! Cutting constants per workpiece material: Kienzle specific cutting force and Taylor tool life
//! for solid-carbide end mills. Sources and units are in the crate documentation.

use aimm_model::Material;

/// Constants of one workpiece material.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MaterialConstants {
    /// Kienzle specific cutting force at 1 mm chip thickness and 1 mm width, N/mm².
    pub kc11_n_per_mm2: f64,
    /// Kienzle exponent (dimensionless): kc = kc1.1 · h^(−mc).
    pub mc: f64,
    /// Taylor constant: cutting speed giving 1 min tool life to VB = 0.3 mm, m/min.
    pub taylor_c_m_per_min: f64,
    /// Taylor exponent n (dimensionless): v · T^n = C.
    pub taylor_n: f64,
}

impl MaterialConstants {
    /// The constants of `material` (sources in the crate documentation).
    pub fn of(material: Material) -> Self {
        match material {
            Material::SteelC45 => Self {
                kc11_n_per_mm2: 2220.0,
                mc: 0.14,
                taylor_c_m_per_min: 400.0,
                taylor_n: 0.25,
            },
            Material::Aluminium6061 => Self {
                kc11_n_per_mm2: 700.0,
                mc: 0.25,
                taylor_c_m_per_min: 2500.0,
                taylor_n: 0.35,
            },
            Material::Ti6Al4V => Self {
                kc11_n_per_mm2: 1400.0,
                mc: 0.23,
                taylor_c_m_per_min: 110.0,
                taylor_n: 0.20,
            },
            Material::Stainless316L => Self {
                kc11_n_per_mm2: 2150.0,
                mc: 0.20,
                taylor_c_m_per_min: 135.0,
                taylor_n: 0.22,
            },
            Material::GreyCastIronGG25 => Self {
                kc11_n_per_mm2: 1160.0,
                mc: 0.26,
                taylor_c_m_per_min: 300.0,
                taylor_n: 0.25,
            },
        }
    }
}
