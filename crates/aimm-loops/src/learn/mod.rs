//! Closed loop 4: process-parameter self-learning. Per operation of an NC program, the loop
//! learns the feed per tooth and cutting speed that give the lowest cost per part within the
//! process's constraints, from every part run, and proposes them only inside the set its models
//! prove safe; a proposal becomes a new program version with only its F and S words changed.

pub mod program;
