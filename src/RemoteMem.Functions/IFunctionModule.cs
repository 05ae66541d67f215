namespace RemoteMem.Functions;

/// <summary>
/// Explicit registration, for functions that need construction arguments or are lambdas: an executor
/// creates each public <see cref="IFunctionModule"/> of a package (public parameterless constructor)
/// and calls <see cref="Register"/> once, after the attribute-registered functions.
/// </summary>
public interface IFunctionModule
{
    void Register(FunctionRegistry registry);
}
