//! aimm storage (to follow).
