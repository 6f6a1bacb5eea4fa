"""Shared test machinery: one synth of the example organization and the gate runners."""
