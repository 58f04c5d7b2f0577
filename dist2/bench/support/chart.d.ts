export interface Series {
    readonly name: string;
    readonly points: readonly (readonly [number, number])[];
    readonly dashed?: boolean;
}
export declare function lineChart(o: {
    title: string;
    xLabel: string;
    yLabel: string;
    series: readonly Series[];
    references?: readonly {
        name: string;
        y: number;
    }[];
}): string;
