import { conformanceTest } from "./conformance.ts";

// Every lpips case of reference/cases.json on the ONNX Runtime engine, within 1e-5 absolute.
conformanceTest("onnx", 1e-5);
